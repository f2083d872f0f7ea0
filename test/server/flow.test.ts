// The whole flow against the real server with the package's own client: a desktop (Hawk) owner and a
// standalone (Basic) guest in one room, both reporting the worked example; then verdicts, /v1/stats and /metrics.
import { createRoom, createRoomSession, deriveHawkCredentials, joinRoom, registerHawkSession, walkRoom, type RoomSession } from '../../src/index';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { firedCandidates } from '../../src/model/candidates';
import type { RoomState } from '../../machines/domain';
import { deriveHawkCredentialsNode } from '../../src/server/rooms';
import { STORES } from '../support/stores';
import { hawkGet, raw, startServer, type TestServer } from './helpers';

const FAST = { timeoutMs: 2000, retry: { attempts: 6, baseDelayMs: 2, maxDelayMs: 20 } };

describe.each(STORES)('the room flow (%s)', (_name, factory) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(factory, { adminToken: 'admin-secret-token' });
  });
  afterAll(() => server.stop());
  const admin = { headers: { Authorization: 'Bearer admin-secret-token' } };

  it('client and server derive the same Hawk credentials (HKDF-SHA256)', async () => {
    const token = 'a'.repeat(64);
    const node = deriveHawkCredentialsNode(Buffer.from(token, 'hex'));
    expect(await deriveHawkCredentials(token)).toEqual({ ...node, algorithm: 'sha256' });
  });

  it('desktop (Hawk) and standalone (Basic) report the worked example: all conformant, stats and metrics exact', async () => {
    const owner = await registerHawkSession(server.serverUrl);
    expect(owner.sessionToken).toMatch(/^[0-9a-f]{64}$/);
    const room = await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'Flow', roomOwner: 'Alice', maxSize: 2 });
    expect(room.roomToken).toMatch(/^[A-Za-z0-9_-]{11}$/);
    expect(room.roomUrl).toContain(room.roomToken);
    const desktop = await joinRoom({ serverUrl: server.serverUrl, roomToken: room.roomToken, displayName: 'Alice', auth: { type: 'hawk', credentials: owner.credentials } });
    const guest = await joinRoom({ serverUrl: server.serverUrl, roomToken: room.roomToken, displayName: 'Bob' });
    expect(guest.expires).toBe(300);
    expect(guest.sessionToken).not.toBe(desktop.sessionToken);

    const info = await hawkGet(`${server.serverUrl}/rooms/${room.roomToken}`, owner.credentials);
    expect(info.status).toBe(200);
    expect(info.json().participants).toEqual([
      { roomConnectionId: desktop.roomConnectionId, displayName: 'Alice', owner: true },
      { roomConnectionId: guest.roomConnectionId, displayName: 'Bob', owner: false },
    ]);
    expect(info.headers.get('Server-Authorization')).toMatch(/^Hawk mac=/);

    const sessions: RoomSession[] = [
      createRoomSession({ roomToken: room.roomToken, serverUrl: server.serverUrl, auth: { type: 'hawk', credentials: owner.credentials }, ...FAST }),
      createRoomSession({ roomToken: room.roomToken, serverUrl: server.serverUrl, auth: { type: 'basic', sessionToken: guest.sessionToken }, ...FAST }),
    ];
    const errors: unknown[] = [];
    for (const s of sessions) s.on('error', (e) => errors.push(e));
    for (const row of WORKED_EXAMPLE) for (const s of sessions) s.send({ type: row.event });
    await Promise.all(sessions.map((s) => s.flush()));
    const left = await Promise.all(sessions.map((s) => s.leave()));
    expect(left.map((l) => l.ok)).toEqual([true, true]);
    expect(errors).toEqual([]);

    // Verdicts, per session, in order.
    const expected = walkRoom(WORKED_EXAMPLE.map((r) => ({ type: r.event })));
    for (const id of [desktop.roomConnectionId, guest.roomConnectionId]) {
      const r = await raw(`${server.serverUrl}/sessions/${id}/reports`, admin);
      expect(r.status).toBe(200);
      const reports = r.json().reports;
      expect(reports.map((x: { seq: number }) => x.seq)).toEqual(expected.map((_, i) => i + 1));
      expect(reports.map((x: { verdict: string }) => x.verdict)).toEqual(expected.map(() => 'conformant'));
      expect(reports.map((x: { report: unknown }) => x.report)).toEqual(expected.map((s) => s.report));
    }

    // Stats: two sessions, both left in `init`; every transition twice.
    const stats = (await raw(`${server.serverUrl}/stats`, admin)).json();
    expect(stats.sessions).toEqual({ started: 2, ended: 2, open: 0 });
    // Reached: every state a step went through (waiting -> starting -> sending passes starting), as the machine fired.
    const reached = new Set<string>(['init']);
    expected.reduce((before, s) => {
      if (s.accepted) for (const c of firedCandidates(before.state, before.counters, s.event, s.counters)) if (c.target) reached.add(c.target);
      reached.add(s.state);
      return { state: s.state, counters: s.counters };
    }, { state: 'init' as RoomState, counters: { connections: 0, sendStreams: 0, recvStreams: 0 } });
    for (const [state, n] of Object.entries(stats.funnel)) expect([state, n]).toEqual([state, reached.has(state) ? 2 : 0]);
    const transitions = new Map<string, number>();
    let from = 'init';
    for (const s of expected) {
      const key = `${from} ${s.state} ${s.event}`;
      transitions.set(key, (transitions.get(key) ?? 0) + 2);
      from = s.state;
    }
    expect(new Map(stats.transitions.map((t: { from: string; to: string; event: string; count: number }) => [`${t.from} ${t.to} ${t.event}`, t.count]))).toEqual(transitions);
    expect(stats.ended).toEqual([{ state: 'init', reason: 'left', count: 2 }]);
    expect(stats.timeToMedia.count).toBe(2);
    expect(stats.nonConformance).toEqual([]);

    // A window without them: nothing started or ended there.
    const later = (await raw(`${server.serverUrl}/stats?since=2999-01-01T00:00:00Z`, admin)).json();
    expect([later.sessions, later.transitions, later.since]).toEqual([{ started: 0, ended: 0, open: 0 }, [], '2999-01-01T00:00:00.000Z']);
    expect((await raw(`${server.serverUrl}/stats?until=yesterday`, admin)).status).toBe(400);

    // Metrics: the same figures in Prometheus text.
    const metrics = await raw(`${server.origin}/metrics`, admin);
    expect(metrics.status).toBe(200);
    const value = (line: string) => Number(metrics.text.split('\n').find((l) => l.startsWith(`${line} `))?.split(' ').pop());
    for (const [key, count] of transitions) {
      const [f, to, event] = key.split(' ');
      expect([key, value(`loop_room_transitions_total{from="${f}",to="${to}",event="${event}"}`)]).toEqual([key, count]);
    }
    const byReport = new Map<string, number>();
    for (const s of expected) byReport.set(`${s.event} ${s.state}`, (byReport.get(`${s.event} ${s.state}`) ?? 0) + 2);
    for (const [key, count] of byReport) {
      const [event, state] = key.split(' ');
      expect(value(`loop_room_status_reports_total{event="${event}",state="${state}",verdict="conformant"}`)).toBe(count);
    }
    expect(value('loop_room_requests_total{action="status",code="204"}')).toBe(2 * expected.length);
    expect(value('loop_room_requests_total{action="leave",code="204"}')).toBe(2);
    expect(value('loop_room_sessions_ended_total{state="init",reason="left"}')).toBe(2);
    expect(value('loop_room_sessions{state="sendrecv"}')).toBe(0);
    expect(value('loop_room_time_to_media_seconds_count')).toBe(2);
    expect(metrics.text).toContain('loop_room_store_commit_seconds_bucket');
  });

  it('admin routes need the admin token', async () => {
    for (const path of ['/metrics', '/v1/stats', '/v1/sessions/x/reports']) {
      const a = await raw(`${server.origin}${path}`);
      expect([path, a.status, a.json().errno]).toEqual([path, 401, 110]);
      const b = await raw(`${server.origin}${path}`, { headers: { Authorization: 'Bearer wrong' } });
      expect([path, b.status]).toEqual([path, 401]);
    }
  });
});
