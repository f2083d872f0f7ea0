// A worker thread of the threaded SQLite store (threaded.ts): one SqliteStore, its own connection, answering the
// calls it is sent. The writer opens it read-write (migrations, WAL, synchronous=FULL, the group commit and the
// rollups run here, off the thread that answers requests); the figures reader opens it read-only. Units of work arrive already
// decided: a decision is applied only if the rows it was decided on are still the stored ones (compared inside the
// call's savepoint), else the answer is the rows as they are now, for the caller to decide again.
import { isDeepStrictEqual } from 'node:util';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { ExportFilter, HawkNonceClaim, HawkSessionRecord, JoinContext, JoinDecision, RoomRecord, SessionDecision, StatsQuery, UpdateOptions } from '../contract';
import { StoreUnavailableError } from '../errors';
import { fromWire, wireError, type Answer, type Asked, type Call, type Post, type ThreadSetup, type Told } from './protocol';
import { SqliteStore, type SessionContext } from './store';

/** A unit's decision without its value (which stays with the caller). */
export type SessionApply = Omit<Extract<SessionDecision<unknown>, { kind: 'apply' }>, 'value'>;
export type JoinApply = Omit<Extract<JoinDecision<unknown>, { kind: 'apply' }>, 'value'>;
/** What of UpdateOptions crosses to the writer (`known` stays with the caller, who decided on it). */
export type UnitOptions = Pick<UpdateOptions, 'idempotencyKey' | 'nonce'>;
/** A unit's outcome: applied, the rows changed since (decide again on these), or no such session/room. */
export type Applied<C> = 'applied' | { stale: C } | undefined;
/** A unit decided under the write lock: applied, refused, or no such session/room. */
export type Asked_ = 'applied' | 'refused' | undefined;

/** Longest the writer waits, holding the write lock, for the caller's decision on a unit's last round. */
const ASK_WAIT_MS = 2000;

const setup = workerData as ThreadSetup;
const port = parentPort!;
const flag = new Int32Array(setup.asking.flag);
let seq = 0;

/**
 * Asks the caller to decide on `ctx` and waits for the answer synchronously, inside the transaction (so the rows
 * cannot change before the decision is applied). The caller's thread never waits on this one, so it always can
 * answer; a reply that comes after the wait gave up is skipped by its sequence number.
 */
function ask(token: number, ctx: unknown): NonNullable<Told['decision']> {
  const mine = ++seq;
  setup.asking.port.postMessage({ seq: mine, token, ctx } satisfies Asked);
  const until = Date.now() + ASK_WAIT_MS;
  for (;;) {
    // Read before the port is looked at: a reply posted after the look changes it, and the wait returns at once.
    const before = Atomics.load(flag, 0);
    let got = receiveMessageOnPort(setup.asking.port);
    while (got && (got.message as Told).seq !== mine) got = receiveMessageOnPort(setup.asking.port);
    if (got) {
      const told = got.message as Told;
      if (told.error) throw fromWire(told.error);
      return told.decision!;
    }
    const left = until - Date.now();
    if (left <= 0) throw new StoreUnavailableError(`the unit's decision did not come within ${ASK_WAIT_MS} ms`);
    // The caller stores its sequence number in `flag` after posting its reply.
    Atomics.wait(flag, 0, before, left);
  }
}

const store = new SqliteStore({ path: setup.path, busyTimeoutMs: setup.busyTimeoutMs, log: (line) => port.postMessage({ log: line } satisfies Post) });

const ops = {
  open: () => store.open(),
  openReadOnly: () => store.openReadOnly(),
  close: () => store.close(),
  pragma: (text: string) => store.pragma(text),
  serverSecret: (candidate: string) => store.serverSecret(candidate),
  createHawkSession: (r: HawkSessionRecord) => store.createHawkSession(r),
  touchHawkSession: (idHmac: string, at: number) => store.touchHawkSession(idHmac, at),
  claimHawkNonce: (c: HawkNonceClaim, at: number, windowMs: number) => store.claimHawkNonce(c, at, windowMs),
  createRoom: (r: RoomRecord) => store.createRoom(r),
  deleteRoom: (token: string, at: number) => store.deleteRoom(token, at),
  expireStep: (now: number, limit: number) => store.expireStep(now, limit),
  retainStep: (before: number, limit: number) => store.retainStep(before, limit),
  foldRollups: (before: number, now: number) => store.foldRollups(before, now),
  sessionReports: (id: string) => store.sessionReports(id),
  exportPage: (filter: ExportFilter, after: number) => store.exportPage(filter, after),
  stats: (q: StatsQuery) => store.stats(q),
  metricsData: (buckets: number[]) => store.metricsData(buckets),
  applySession: (id: string, decidedOn: SessionContext, d: SessionApply, options: UnitOptions) =>
    store.updateSession<Applied<SessionContext>>(
      id,
      (session, seen) => (isDeepStrictEqual({ session, seen }, decidedOn) ? { ...d, value: 'applied' } : { kind: 'refuse', value: { stale: { session, seen } } }),
      options,
    ),
  applyJoin: (room: string, decidedOn: JoinContext, d: JoinApply) =>
    store.joinRoom<Applied<JoinContext>>(room, (ctx) => (isDeepStrictEqual(ctx, decidedOn) ? { ...d, value: 'applied' } : { kind: 'refuse', value: { stale: ctx } })),
  // A unit's last round: decided by the caller on the rows read here, while this transaction holds the write lock.
  askSession: (id: string, token: number, options: UnitOptions) =>
    store.updateSession<Asked_>(
      id,
      (session, seen) => {
        const d = ask(token, { session, seen });
        return d.kind === 'apply' ? { ...(d as SessionApply), kind: 'apply', value: 'applied' } : { kind: 'refuse', value: 'refused' };
      },
      options,
    ),
  askJoin: (room: string, token: number) =>
    store.joinRoom<Asked_>(room, (ctx) => {
      const d = ask(token, ctx);
      return d.kind === 'apply' ? { ...(d as JoinApply), kind: 'apply', value: 'applied' } : { kind: 'refuse', value: 'refused' };
    }),
};

export type Ops = typeof ops;

// Answers go out together, once the calls settled in this turn have all settled (a group commit answers many).
let outbox: Answer[] = [];
function answer(a: Answer): void {
  if (outbox.length === 0) queueMicrotask(flush);
  outbox.push(a);
}
function flush(): void {
  const answers = outbox;
  outbox = [];
  port.postMessage({ answers, commits: store.takeCommitTimes() } satisfies Post);
}

function run(c: Call): void {
  // A read its caller gave up on (read_timeout_ms) is not started: timed-out reads never pile up here.
  if (c.deadline !== undefined && Date.now() > c.deadline) {
    answer({ id: c.id, ok: false, error: wireError(new StoreUnavailableError('the read waited past its read_timeout_ms')) });
    return;
  }
  let result: Promise<unknown>;
  try {
    const op = ops[c.op as keyof Ops] as ((...args: unknown[]) => unknown) | undefined;
    if (!op) throw new Error(`unknown store call '${c.op}'`);
    result = Promise.resolve(op(...c.args));
  } catch (err) {
    result = Promise.reject(err);
  }
  result.then(
    (value) => answer({ id: c.id, ok: true, value }),
    (err: unknown) => answer({ id: c.id, ok: false, error: wireError(err) }),
  );
}

port.on('message', (calls: Call[]) => calls.forEach(run));
