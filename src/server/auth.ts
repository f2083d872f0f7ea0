// Who is asking: HTTP Basic (a room sessionToken as the user, empty password) or Hawk (checked by the hawk
// package's server side with the payload hash, and each nonce claimed once: first in this process's cache,
// then in the store, shared by every process on the database; a request that may write through a unit of work
// can carry its claim into that unit's transaction instead, D-141). Failures are 401 errno 110; nothing about
// the credentials themselves goes into an answer or a log.
import type { IncomingMessage } from 'node:http';
import { AUTH_SCHEMES, ApiError, errors } from './errors';
import type { HawkServerModule } from './peers';
import { Hmacs } from './secrets';
import { NonceReplayedError, StoreUnavailableError, type RoomStore, type SessionRecord, type UnitNonce } from './store';

export type Caller =
  | { scheme: 'none' }
  | { scheme: 'basic'; tokenHmac: string; session: SessionRecord }
  | {
      scheme: 'hawk';
      idHmac: string;
      credentials: { key: string; algorithm: string };
      artifacts: Record<string, unknown>;
      /** The store claim of this request's nonce, when authenticate was asked to defer it (see settleNonce). */
      nonce?: UnitNonce;
    };

/**
 * Nonces seen within the timestamp window by this process: a free first check (a replay to the same process
 * never reaches the store). The store's claim is the authority across processes.
 */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly windowMs: number,
    private readonly maxEntries = 1_000_000,
  ) {}

  /**
   * False when this nonce was seen within the window. `at` is the request's own timestamp (ms), already checked to
   * be within the skew of now: a claim is kept until its timestamp is a window old, when its request is stale anyway.
   */
  claim(key: string, at: number): boolean {
    if (this.seen.size >= this.maxEntries / 2) this.sweep(at);
    const seenAt = this.seen.get(key);
    if (seenAt !== undefined && at - seenAt <= this.windowMs) return false;
    if (this.seen.size >= this.maxEntries) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(key, at);
    return true;
  }

  private sweep(at: number): void {
    for (const [k, seenAt] of this.seen) {
      if (at - seenAt <= this.windowMs) break; // arrival order is nearly timestamp order (within the skew)
      this.seen.delete(k);
    }
  }
}

/**
 * A Hawk session's last use is written at most this often: retention counts in days, so an hour late costs
 * nothing, while a write per request would double the writes of a busy client (a status report every few
 * seconds) and serialize them on one row.
 */
export const HAWK_TOUCH_INTERVAL_MS = 3_600_000;

export interface AuthOptions {
  store: RoomStore;
  /** The server's clock (last use of Hawk sessions); default Date.now. */
  now?: () => number;
  /** Operator log lines (never a secret). */
  log?: (line: string) => void;
  hmacs: Hmacs;
  hawk: () => HawkServerModule;
  /** Hawk timestamp window, each way (default 60 s). */
  skewSec: number;
  nonces: NonceCache;
  /**
   * The host and port clients sign for (from --public-url, e.g. behind a TLS-terminating proxy); default: the
   * request's Host header, port 80 when it names none (this server speaks plain HTTP).
   */
  publicHost?: { name: string; port: number };
}

/** Host and port of an http(s) URL as a Hawk client signs them (lowercased host, the scheme's port if none). */
export function publicHostOf(url: string): { name: string; port: number } {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`the public URL must be an http(s) URL, got '${url}'`);
  // Hawk signs the request's path as the server receives it: a proxy must pass paths through unchanged.
  if (u.pathname !== '/' || u.search || u.hash || u.username || u.password) throw new Error(`the public URL is an origin such as https://rooms.example.com (no path), got '${url}'`);
  return { name: u.hostname.toLowerCase(), port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80 };
}

export class Authenticator {
  constructor(private readonly o: AuthOptions) {}

  /**
   * The caller, or a 401 ApiError; a store failure propagates as StoreUnavailableError. With `deferNonce` (and a
   * store that claims nonces in units of work), a Hawk nonce's store claim is left to the request's unit of work
   * (UpdateOptions.nonce) or to settleNonce: the caller must settle it before anything else is written and before
   * answering.
   */
  async authenticate(req: IncomingMessage, body: string, options: { deferNonce?: boolean } = {}): Promise<Caller> {
    const header = req.headers.authorization;
    if (header === undefined) return { scheme: 'none' };
    const space = header.indexOf(' ');
    const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
    if (scheme === 'basic') return this.basic(header.slice(space + 1).trim());
    if (scheme === 'hawk') return this.hawk(req, header, body, options.deferNonce === true && this.o.store.claimsNoncesInUnits === true);
    throw errors.unauthorized();
  }

  private async basic(encoded: string): Promise<Caller> {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw errors.unauthorized();
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const token = colon === -1 ? decoded : decoded.slice(0, colon);
    const password = colon === -1 ? '' : decoded.slice(colon + 1);
    if (token === '' || password !== '' || token.length > 256) throw errors.unauthorized();
    const tokenHmac = this.o.hmacs.token(token);
    const session = await this.o.store.sessionByToken(tokenHmac);
    if (!session) throw errors.unauthorized();
    return { scheme: 'basic', tokenHmac, session };
  }

  private async hawk(req: IncomingMessage, authorization: string, body: string, deferNonce: boolean): Promise<Caller> {
    const host = this.o.publicHost ?? parseHost(req.headers.host);
    if (!host || authorization.length > 1024) throw errors.unauthorized();
    let idHmac = '';
    let lastUsedAt = Number.POSITIVE_INFINITY;
    let storeFailure: unknown;
    let stale: { key: string } | undefined;
    let deferred: UnitNonce | undefined;
    let caller: Caller;
    try {
      const { credentials, artifacts } = await this.o.hawk().server.authenticate(
        { method: req.method ?? 'GET', url: req.url ?? '/', host: host.name, port: host.port, authorization, contentType: req.headers['content-type'] ?? '' } as never,
        async (id) => {
          idHmac = this.o.hmacs.hawkId(id);
          const s = await this.o.store.getHawkSession(idHmac);
          if (s) lastUsedAt = s.lastUsedAt;
          return s ? { key: s.key, algorithm: 'sha256' } : null;
        },
        {
          // A body must be covered by the hash; a hash sent without a body must be the empty payload's.
          ...(body.length > 0 || /\bhash="/.test(authorization) ? { payload: body } : {}),
          timestampSkewSec: this.o.skewSec,
          // Called once the MAC and payload hash are right, so only a genuine request claims a nonce.
          nonceFunc: async (key, nonce, ts) => {
            // hawk checks the timestamp after the nonce, and `Math.abs(NaN - now) > skew` is false: a ts that is not
            // a decimal integer would never go stale, and its request would replay once its nonce was forgotten.
            // So the timestamp is judged here first, and a claim is kept by its timestamp, not by when it came.
            const tsMs = /^\d{1,13}$/.test(ts) ? Number(ts) * 1000 : NaN;
            if (!(Math.abs(tsMs - Date.now()) <= this.o.skewSec * 1000)) {
              stale = { key };
              throw new Error('stale timestamp');
            }
            const windowMs = 2 * this.o.skewSec * 1000;
            // A nonce a unit of work claims is judged there alone (every process alike): a status report sent again
            // byte for byte, whose Idempotency-Key holds it already, gets its first answer there (rooms.ts).
            if (deferNonce) {
              deferred = { claim: { idHmac, nonce, ts }, at: tsMs, windowMs };
              return;
            }
            if (!this.o.nonces.claim(`${idHmac}|${nonce}|${ts}`, tsMs)) throw new Error('replayed nonce');
            if (!this.o.store.claimHawkNonce) return;
            let fresh: boolean;
            try {
              // Stored at the request's timestamp: purged once that is a window old (it is stale by then).
              fresh = await this.o.store.claimHawkNonce({ idHmac, nonce, ts }, tsMs, windowMs);
            } catch (err) {
              storeFailure = err; // hawk turns any nonceFunc error into 401; an outage must stay a 503
              throw err;
            }
            if (!fresh) throw new Error('replayed nonce');
          },
        },
      );
      caller = { scheme: 'hawk', idHmac, credentials, artifacts, ...(deferred ? { nonce: deferred } : {}) };
    } catch (err) {
      if (storeFailure !== undefined) throw storeFailure;
      if (stale) {
        // As hawk (and loop-server) answer a stale timestamp: Hawk's challenge alone, the server's time MACed, so a
        // client library can parse it and correct its clock (a `Basic,` before it makes hawk's parser refuse it).
        const hawk = this.o.hawk();
        throw errors.unauthorized(hawk.utils.unauthorized('Stale timestamp', hawk.crypto.timestampMessage({ key: stale.key, algorithm: 'sha256' }, 0)).output.headers['WWW-Authenticate']);
      }
      if (err instanceof StoreUnavailableError) throw err;
      if (err instanceof ApiError) throw err;
      const www = (err as { output?: { headers?: Record<string, string> } }).output?.headers?.['WWW-Authenticate'];
      // A stale timestamp: the client may correct its clock from ts/tsm (and from the Date header).
      if (typeof www === 'string' && www.includes('tsm=')) throw errors.unauthorized(www);
      throw errors.unauthorized(AUTH_SCHEMES);
    }
    await this.touch(idHmac, lastUsedAt);
    return caller;
  }

  /**
   * Claims a deferred Hawk nonce that no unit of work claimed (the request wrote nothing): a replay is 401 as in
   * authenticate. Also turns a unit's NonceReplayedError (`failure`) into that 401.
   */
  async settleNonce(caller: Caller, failure?: unknown): Promise<void> {
    if (failure instanceof NonceReplayedError) throw errors.unauthorized(AUTH_SCHEMES);
    if (caller.scheme !== 'hawk' || !caller.nonce || caller.nonce.claimed) return;
    const n = caller.nonce;
    const fresh = await this.o.store.claimHawkNonce!(n.claim, n.at, n.windowMs);
    n.claimed = true;
    if (!fresh) throw errors.unauthorized(AUTH_SCHEMES);
  }

  /** Records a genuine request's use of its Hawk session, when the stored one is older than the interval. */
  private async touch(idHmac: string, lastUsedAt: number): Promise<void> {
    const now = (this.o.now ?? Date.now)();
    if (now - lastUsedAt < HAWK_TOUCH_INTERVAL_MS) return;
    try {
      await this.o.store.touchHawkSession(idHmac, now);
    } catch (err) {
      // Bookkeeping only: the request goes on, and the next one tries again (the stored value is still old).
      this.o.log?.(`server: recording a Hawk session's use failed: ${err instanceof Error ? err.name : typeof err}`);
    }
  }

  /** The Server-Authorization header for an answer to a Hawk request. */
  serverAuthorization(caller: Caller, payload: string, contentType: string): string | undefined {
    if (caller.scheme !== 'hawk') return undefined;
    try {
      return this.o.hawk().server.header(caller.credentials, caller.artifacts, payload ? { payload, contentType } : {});
    } catch {
      return undefined;
    }
  }
}

function parseHost(header: string | undefined): { name: string; port: number } | undefined {
  if (!header) return undefined;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(header.trim());
  if (!m) return undefined;
  // Host names are case-insensitive and signed lowercased; no port means HTTP's 80 (this server has no TLS).
  return { name: m[1].toLowerCase(), port: m[2] ? Number(m[2]) : 80 };
}
