#!/usr/bin/env python3
"""A complete conformance adapter around a room client written in Python (standard library only).

The client is the part to replace with yours. Run it with
    npx loop-room-state conform --adapter "python3 examples/adapters/conform_adapter.py"
Driver protocol version 1 (docs/conformance.md): one JSON object per line on stdin, one answer per line
on stdout with the same id. Logs go to stderr, never to stdout.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

# ---- the client: counters, states, reports (docs/protocol.md) ----

COUNTING = {
    "Session.connectionCreated": ("connections", 1),
    "Session.connectionDestroyed": ("connections", -1),
    "Session.streamCreated": ("recvStreams", 1),
    "Session.streamDestroyed": ("recvStreams", -1),
    "Publisher.streamCreated": ("sendStreams", 1),
    "Publisher.streamDestroyed": ("sendStreams", -1),
}


def settle(state, c):
    """The settled state for the counters after an event (protocol sections 3 and 4)."""
    if c["connections"] == 0:
        return "init"
    if c["connections"] == 1:
        return "waiting"
    if c["sendStreams"] > 0 and c["recvStreams"] > 0:
        return "sendrecv"
    if c["sendStreams"] > 0:
        return "sending"
    if c["recvStreams"] > 0:
        return "receiving"
    return "starting" if state in ("waiting", "starting") else "cleanup"


def hawk_header(creds, url, body, content_type="application/json"):
    u = urllib.parse.urlsplit(url)
    ts = str(int(time.time()))
    nonce = base64.urlsafe_b64encode(os.urandom(8)).decode().rstrip("=")
    algo = getattr(hashlib, creds["algorithm"])
    payload = "hawk.1.payload\n%s\n%s\n" % (content_type, body)
    h = base64.b64encode(algo(payload.encode()).digest()).decode()
    port = u.port or (443 if u.scheme == "https" else 80)
    path = u.path + ("?" + u.query if u.query else "")
    normalized = "hawk.1.header\n%s\n%s\nPOST\n%s\n%s\n%s\n%s\n\n" % (ts, nonce, path, u.hostname.lower(), port, h)
    mac = base64.b64encode(hmac.new(creds["key"].encode(), normalized.encode(), algo).digest()).decode()
    return 'Hawk id="%s", ts="%s", nonce="%s", hash="%s", mac="%s"' % (creds["id"], ts, nonce, h, mac)


class Client:
    def __init__(self, server_url, room_token, auth):
        self.url = server_url.rstrip("/") + "/rooms/" + room_token
        self.auth = auth
        self.state = "init"
        self.counters = {"connections": 0, "sendStreams": 0, "recvStreams": 0}
        self.queue = []
        self.cond = threading.Condition()
        self.stopped = False  # 401, 403, 404, 410: nothing more for this session
        self.left = False
        self.busy = False
        threading.Thread(target=self._pump, daemon=True).start()

    def authorization(self, body):
        if self.auth["type"] == "basic":
            return "Basic " + base64.b64encode((self.auth["sessionToken"] + ":").encode()).decode()
        return hawk_header(self.auth["credentials"], self.url, body)

    def send(self, event):
        rule = COUNTING.get(event)
        if rule is None:
            return  # unknown event: rejected
        counter, delta = rule
        counters = dict(self.counters)
        counters[counter] += delta
        if counters[counter] < 0:
            return  # below zero: rejected
        self.state = settle(self.state, counters)
        self.counters = counters
        if self.left or self.stopped:
            return
        body = json.dumps({"action": "status", "event": event, "state": self.state, **counters}, separators=(",", ":"))
        with self.cond:
            self.queue.append(body)
            self.cond.notify_all()

    def deliver(self, body):
        """One request, retried on 408, 429, 5xx and network errors (honouring Retry-After)."""
        for attempt in range(1, 6):
            if self.stopped:
                return
            req = urllib.request.Request(self.url, data=body.encode(), method="POST", headers={
                "Content-Type": "application/json; charset=utf-8", "Authorization": self.authorization(body)})
            try:
                with urllib.request.urlopen(req, timeout=10) as res:
                    res.read()
                return
            except urllib.error.HTTPError as e:
                if e.code in (401, 403, 404, 410):
                    self.stopped = True
                    return
                if e.code == 408 or e.code == 429 or e.code >= 500:
                    after = e.headers.get("Retry-After", "")
                    time.sleep(int(after) if after.isdigit() else 0.1 * attempt)
                    continue
                return  # another 4xx: this request is dropped, the next ones still go
            except (urllib.error.URLError, ConnectionError, OSError) as e:
                print("attempt %d: %s" % (attempt, e), file=sys.stderr)
                time.sleep(0.1 * attempt)

    def _pump(self):
        while True:
            with self.cond:
                while not self.queue and not self.stopped:
                    self.busy = False
                    self.cond.notify_all()
                    self.cond.wait()
                if self.stopped:
                    self.busy = False
                    self.cond.notify_all()
                    return
                self.busy = True
                body = self.queue[0]
            self.deliver(body)
            with self.cond:
                self.queue.pop(0)

    def leave(self):
        if self.left:
            return
        self.left = True
        with self.cond:
            while (self.queue or self.busy) and not self.stopped:
                self.cond.wait()
        if not self.stopped:
            self.deliver('{"action":"leave"}')

    def stop(self):
        with self.cond:
            self.stopped = True
            self.queue.clear()
            self.cond.notify_all()


# ---- the adapter: driver protocol version 1 ----

client = None


def handle(m):
    global client
    t = m.get("type")
    if t == "hello":
        # A driver protocol this adapter does not speak: refuse, and the kit stops saying why (exit 2).
        if m.get("protocol") != 1:
            raise ValueError("driver protocol %r is not supported (this adapter speaks 1)" % (m.get("protocol"),))
        return {"name": "example Python client", "auth": ["basic", "hawk"], "observes": ["state", "counters"]}
    if t == "start":
        if client:
            client.stop()
        client = Client(m["serverUrl"], m["roomToken"], m["auth"])
        return {}
    if t == "event":
        client.send(m["event"])
        return {"state": client.state, **client.counters}
    if t == "leave":
        client.leave()
        return {}
    if t == "stop":
        if client:
            client.stop()
        client = None
        return {}
    raise ValueError("unknown message type %r" % (t,))


for line in sys.stdin:
    if not line.strip():
        continue
    m = json.loads(line)
    try:
        answer = {"id": m["id"], "ok": True, **handle(m)}
    except Exception as e:  # the adapter itself failed: say so, keep going
        answer = {"id": m["id"], "ok": False, "error": str(e)}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
