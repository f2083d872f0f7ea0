// `loop-room-state simulate-traffic`: seeded simulated sessions against a running room server, through the
// package's own client (registerHawkSession, createRoom, joinRoom, createRoomSession), with a share of
// deliberately broken clients, for demos of the traffic view and for tests. Each session walks the model: only
// events the machine accepts are sent (a real client reports nothing else); a broken client's network then loses,
// doubles or rewrites one of its status reports on the way (so the server's verdicts have something to find).
import { ROOM_EVENTS, ROOM_STATES, type RoomEventType, type RoomState } from '../../machines/domain';
import { initialRoomSnapshot, stepRoom } from '../model/step';
import { seededRandom } from '../testgen/random';
import type { FetchLike } from '../transport/attempt';
import { parseArgs, UsageError } from './args';
import type { Command } from './command';

export const FAULTS = ['lost-report', 'doubled-report', 'wrong-state', 'misspelt-state'] as const;
export type Fault = (typeof FAULTS)[number];

export interface SessionPlan {
  /** Display name (also says what the plan is). */
  name: string;
  /** Events fed to the client, each accepted by the model where it is sent. */
  events: RoomEventType[];
  /** The broken client's fault, on the status report with this index (0-based). */
  fault?: { kind: Fault; at: number };
  /** Leave at the end (else the session stays open until it expires). */
  leave: boolean;
}

export interface TrafficPlanOptions {
  sessions: number;
  seed: number;
  /** Share of broken clients, 0..1 (default 0.2). */
  broken?: number;
  /** Longest walk (default 12 events). */
  maxEvents?: number;
}

/** The seeded plans: the same seed gives the same sessions, events and faults on every machine. */
export function trafficPlans(o: TrafficPlanOptions): SessionPlan[] {
  const rnd = seededRandom(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const plans: SessionPlan[] = [];
  for (let i = 0; i < o.sessions; i++) {
    const length = 2 + Math.floor(rnd() * ((o.maxEvents ?? 12) - 1));
    let snapshot = initialRoomSnapshot();
    const events: RoomEventType[] = [];
    for (let k = 0; k < length; k++) {
      // Calls mostly move on: an event that changes the state is four times as likely as one that only counts.
      const weighted = ROOM_EVENTS.flatMap((e) => {
        const { step } = stepRoom(snapshot, e);
        return !step.accepted ? [] : step.state !== snapshot.value ? [e, e, e, e] : [e];
      });
      const event = pick(weighted);
      snapshot = stepRoom(snapshot, event).snapshot;
      events.push(event);
    }
    const broken = rnd() < (o.broken ?? 0.2);
    const fault = broken ? { kind: pick(FAULTS), at: Math.floor(rnd() * events.length) } : undefined;
    plans.push({ name: `sim-${o.seed}-${i}${fault ? `-${fault.kind}` : ''}`, events, ...(fault ? { fault } : {}), leave: rnd() < 0.8 });
  }
  return plans;
}

/**
 * A fetch that breaks one status report of a session on its way, as a faulty client or network would: it is
 * lost (the client is told 204), sent twice, or its state is rewritten (to another known state, or misspelt).
 * Everything else passes through unchanged. Use with Basic auth (a rewritten Hawk request no longer verifies).
 */
export function faultyFetch(fault: { kind: Fault; at: number }, inner: FetchLike = (u, i) => globalThis.fetch(u, i)): FetchLike {
  let index = -1;
  return async (url, init) => {
    const body = typeof init?.body === 'string' ? init.body : undefined;
    if (!body || !body.includes('"action":"status"') || ++index !== fault.at) return inner(url, init);
    if (fault.kind === 'lost-report') return new Response(null, { status: 204 });
    if (fault.kind === 'doubled-report') {
      // As a client of the time would (no Idempotency-Key): a server that honours keys would rightly store
      // a repeat of the same key once, and there would be no doubled report to show.
      const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>).filter(([k]) => k.toLowerCase() !== 'idempotency-key'));
      await inner(url, { ...init, headers });
      return inner(url, { ...init, headers });
    }
    const report = JSON.parse(body) as { state: string };
    report.state = fault.kind === 'misspelt-state' ? report.state[0].toUpperCase() + report.state.slice(1) : otherState(report.state as RoomState);
    return inner(url, { ...init, body: JSON.stringify(report) });
  };
}

/** A known state other than `s` (the next one in the spec's order). */
export const otherState = (s: RoomState): RoomState => ROOM_STATES[(ROOM_STATES.indexOf(s) + 1) % ROOM_STATES.length];

export interface TrafficRun {
  sessions: number;
  reports: number;
  broken: Record<Fault, number>;
  left: number;
  /** Plan name -> the server's session id (roomConnectionId). */
  ids: Record<string, string>;
  failures: string[];
}

/** Run the plans against `serverUrl` (…/v1), `concurrency` sessions at a time, two participants to a room (a call). */
export async function runTraffic(serverUrl: string, plans: readonly SessionPlan[], concurrency = 4): Promise<TrafficRun> {
  // The client is browser-safe and in the main entry; loaded here so `--help` needs nothing.
  const { registerHawkSession, createRoom, joinRoom, createRoomSession } = await import('../index');
  const owner = await registerHawkSession(serverUrl);
  const out: TrafficRun = { sessions: 0, reports: 0, broken: { 'lost-report': 0, 'doubled-report': 0, 'wrong-state': 0, 'misspelt-state': 0 }, left: 0, ids: {}, failures: [] };
  let room: string | undefined;
  let inRoom = 0;
  const roomFor = async () => {
    if (!room || inRoom >= 2) {
      room = (await createRoom({ serverUrl, credentials: owner.credentials, roomName: 'simulated traffic', roomOwner: 'simulate-traffic', maxSize: 5 })).roomToken;
      inRoom = 0;
    }
    inRoom++;
    return room;
  };
  let next = 0;
  const worker = async () => {
    while (next < plans.length) {
      const plan = plans[next++];
      try {
        const roomToken = await roomFor();
        const joined = await joinRoom({ serverUrl, roomToken, displayName: plan.name, clientMaxSize: 5 });
        out.ids[plan.name] = joined.roomConnectionId;
        const session = createRoomSession({
          serverUrl,
          roomToken,
          auth: { type: 'basic', sessionToken: joined.sessionToken },
          ...(plan.fault ? { fetch: faultyFetch(plan.fault) } : {}),
          timeoutMs: 5000,
        });
        session.on('report', () => out.reports++);
        for (const e of plan.events) session.send(e);
        await session.flush();
        if (plan.leave) {
          const r = await session.leave();
          if (r.ok) out.left++;
        } else session.stop();
        out.sessions++;
        if (plan.fault) out.broken[plan.fault.kind]++;
      } catch (err) {
        out.failures.push(`${plan.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return out;
}

export const simulateTraffic: Command = {
  name: 'simulate-traffic',
  summary: 'send seeded simulated sessions (some deliberately broken) to a running room server, for the traffic view',
  usage: [
    'loop-room-state simulate-traffic --server URL [--sessions N] [--seed S] [--broken R] [--concurrency C]',
    '',
    '  --server       the room server\'s API address, e.g. http://127.0.0.1:5000/v1 (its origin alone also works)',
    '  --sessions     how many sessions (default 20)',
    '  --seed         the same seed sends the same sessions, events and faults (default 1)',
    '  --broken       share of broken clients, 0 to 1 (default 0.2): a status report lost, doubled, or with a wrong or misspelt state',
    '  --concurrency  sessions at a time (default 4)',
  ].join('\n'),
  async run(argv, io) {
    const { flags } = parseArgs(argv, { server: 'value', sessions: 'value', seed: 'value', broken: 'value', concurrency: 'value' });
    if (typeof flags.server !== 'string') throw new UsageError('--server URL is required (the room server, e.g. http://127.0.0.1:5000/v1)');
    let serverUrl: string;
    try {
      const u = new URL(flags.server);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
      serverUrl = `${u.origin}${u.pathname.replace(/\/+$/, '') || '/v1'}`;
    } catch {
      throw new UsageError('--server must be an http(s) URL such as http://127.0.0.1:5000/v1');
    }
    const number = (name: string, fallback: number, min: number, max: number, integer: boolean) => {
      const raw = flags[name];
      if (raw === undefined) return fallback;
      const n = Number(raw);
      if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
        throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
      return n;
    };
    const sessions = number('sessions', 20, 1, 100_000, true);
    const seed = number('seed', 1, -(2 ** 31), 2 ** 31 - 1, true);
    const broken = number('broken', 0.2, 0, 1, false);
    const concurrency = number('concurrency', 4, 1, 256, true);
    const plans = trafficPlans({ sessions, seed, broken });
    const run = await runTraffic(serverUrl, plans, concurrency);
    const faults = FAULTS.filter((f) => run.broken[f] > 0).map((f) => `${run.broken[f]} ${f}`);
    io.out(`simulate-traffic: ${run.sessions} sessions (seed ${seed}), ${run.reports} status reports delivered, ${run.left} left, ${run.sessions - run.left} still open`);
    io.out(`broken clients: ${faults.length > 0 ? faults.join(', ') : 'none'}`);
    for (const f of run.failures) io.err(`simulate-traffic: ${f}`);
    return run.failures.length > 0 ? 1 : 0;
  },
};
