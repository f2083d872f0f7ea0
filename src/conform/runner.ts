// Runs the cases against an adapter: the kit's server, the adapter lanes (one adapter process per lane,
// cases spread over the lanes since one adapter runs one session at a time), the quiet-wire waits, the
// verdicts, and the shrinking of failing random walks.
import { loadHawk } from '../server/peers';
import { exploreGraph } from '../testgen/explore';
import { randomWalks } from '../testgen/select';
import { modelCases, toConformCase } from './cases/model';
import { RETRY_AFTER_S, isRetried, wireCases } from './cases/wire';
import { Adapter, AdapterExited, AdapterTimeout, DriverError, spawnAdapter, type AdapterLink } from './driver';
import { judge } from './judge';
import { shrinkWalk } from './shrink';
import type { AdapterInfo, CaseResult, ConformCase, Divergence, ObservedStep, RunResult } from './types';
import { startWireServer, type CaseWire, type WireServer } from './wireServer';

export const DEFAULT_QUIET_MS = 300;
export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_JOBS = 4;

export interface ConformOptions {
  /** A shell command, or a link factory (the package's own adapter runs in this process). */
  adapter: string | { describe: string; link: () => AdapterLink };
  only?: 'model' | 'wire';
  cases?: readonly string[];
  maxCount?: number;
  walks?: { seed: number; walks: number; length: number };
  timeoutMs?: number;
  freshProcess?: boolean;
  /** No request for this long after the adapter's answer: the step is judged (default 300). */
  quietMs?: number;
  /** Adapter processes run side by side (default 4). */
  jobs?: number;
  /** Called as each case ends (progress). */
  onCase?: (r: CaseResult) => void;
  /** Instead of the selected cases: these (bench and tests run other case sets, e.g. the tour vectors). */
  casesFor?: (info: AdapterInfo) => ConformCase[];
}

/** The options or the case list are wrong: exit 2, like a driver failure. */
export class ConformUsageError extends Error {}

export function selectCases(o: Pick<ConformOptions, 'only' | 'cases' | 'maxCount' | 'walks'>, info: AdapterInfo): ConformCase[] {
  const maxCount = o.maxCount ?? 3;
  const modelAuth = info.auth.includes('basic') ? 'basic' : 'hawk';
  let all: ConformCase[] = [];
  if (o.only !== 'wire') all.push(...modelCases(maxCount, modelAuth));
  if (o.only !== 'model') all.push(...wireCases());
  if (o.walks && o.only !== 'wire') all.push(...walkCases(maxCount, o.walks, modelAuth));
  if (o.cases) {
    const unknown = o.cases.filter((id) => !all.some((c) => c.id === id));
    if (unknown.length > 0) throw new ConformUsageError(`no such case: ${unknown.join(', ')} (the case ids are listed by --list)`);
    all = all.filter((c) => o.cases!.includes(c.id));
  }
  return all;
}

export function walkCases(maxCount: number, w: { seed: number; walks: number; length: number }, auth: ConformCase['auth']): ConformCase[] {
  return randomWalks(exploreGraph(maxCount), w.seed, w.walks, w.length).map((events, i) =>
    toConformCase(`walk:${w.seed}:${i + 1}`, `random walk ${i + 1} of seed ${w.seed} (${events.length} events)`, events, auth, undefined, 'walk'),
  );
}

export async function runConformance(o: ConformOptions): Promise<RunResult> {
  const started = Date.now();
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const quietMs = o.quietMs ?? DEFAULT_QUIET_MS;
  const newAdapter = () => new Adapter(typeof o.adapter === 'string' ? spawnAdapter(o.adapter) : o.adapter.link(), timeoutMs);
  const first = newAdapter();
  let info: AdapterInfo;
  try {
    info = await first.hello();
  } catch (err) {
    first.close();
    throw err;
  }
  let cases: ConformCase[];
  try {
    cases = o.casesFor ? o.casesFor(info) : selectCases(o, info);
  } catch (err) {
    first.close();
    throw err;
  }
  if (cases.some((c) => c.auth === 'hawk' && info.auth.includes('hawk'))) {
    try {
      loadHawk();
    } catch (err) {
      first.close();
      throw new ConformUsageError(`the Hawk cases need ${err instanceof Error ? err.message : String(err)} (or leave them out: --cases, --only)`);
    }
  }
  const server = await startWireServer();
  const lanes: Array<Adapter | undefined> = [first];
  const results = new Map<string, CaseResult>();
  const queue = [...cases];
  try {
    const ready = async (lane: number): Promise<Adapter> => {
      let a = lanes[lane];
      if (a && !o.freshProcess) return a;
      a?.close();
      a = newAdapter();
      lanes[lane] = a;
      const again = await a.hello();
      if (again.name !== info.name) throw new DriverError(`a second adapter process said it is '${again.name}', the first '${info.name}'`);
      return a;
    };
    const runOn = async (lane: number, c: ConformCase): Promise<CaseResult> => {
      const skip = skipReason(c, info);
      if (skip) return skipped(c, skip);
      const adapter = await ready(lane);
      const r = await runCase(adapter, server, c, info, quietMs);
      if (r.lost || o.freshProcess) {
        // Hung or exited: its state is unknown now, the lane starts a new adapter for its next case.
        adapter.close();
        lanes[lane] = undefined;
      }
      return r.result;
    };
    const jobs = Math.max(1, Math.min(o.jobs ?? DEFAULT_JOBS, queue.length || 1));
    await Promise.all(
      Array.from({ length: jobs }, async (_, lane) => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          let r = await runOn(lane, c);
          if (c.kind === 'walk' && r.status === 'failed') r = await shrinkWalk(c, r, (shorter) => runOn(lane, shorter));
          results.set(c.id, r);
          o.onCase?.(r);
        }
      }),
    );
  } catch (err) {
    // The reports can still show the cases that ended before the run stopped.
    if (err instanceof DriverError) err.partial = { ...result(cases.filter((c) => results.has(c.id))), aborted: err.message };
    throw err;
  } finally {
    // When one lane stops the run, the others take no further case.
    queue.length = 0;
    for (const a of lanes) a?.close();
    await server.shutdown();
  }
  return result(cases);

  function result(done: ConformCase[]): RunResult {
    const list = done.map((c) => results.get(c.id)!);
    const count = (s: CaseResult['status']) => list.filter((r) => r.status === s).length;
    return {
      adapter: info,
      command: typeof o.adapter === 'string' ? o.adapter : o.adapter.describe,
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      maxCount: o.maxCount ?? 3,
      cases: list,
      strays: server.strays,
      summary: { total: list.length, passed: count('passed'), failed: count('failed'), skipped: count('skipped'), events: list.reduce((n, r) => n + (r.status === 'skipped' ? 0 : r.steps.length), 0) },
    };
  }
}

function skipReason(c: ConformCase, info: AdapterInfo): string | undefined {
  if (!info.auth.includes(c.auth)) return `the adapter does not offer ${c.auth === 'hawk' ? 'Hawk' : 'Basic'} (its hello answered auth ${JSON.stringify(info.auth)})`;
  return undefined;
}

function skipped(c: ConformCase, reason: string): CaseResult {
  return { ...base(c), status: 'skipped', reason, problems: [], observed: [], expectedRequests: [], requests: [], stderr: '', durationMs: 0 };
}

function base(c: ConformCase) {
  return { id: c.id, kind: c.kind, description: c.description, auth: c.auth, items: c.items, steps: c.steps };
}

async function runCase(adapter: Adapter, server: WireServer, c: ConformCase, info: AdapterInfo, quietMs: number): Promise<{ result: CaseResult; lost: boolean }> {
  const t0 = performance.now();
  const wire = server.open(c.id, c.auth, c.fault);
  const observed: ObservedStep[] = [];
  const adapterProblems: Divergence[] = [];
  const eventOf = (step: number) => (step === 0 ? 'start' : step > c.steps.length ? 'leave' : c.steps[step - 1].event);
  /** The adapter hung or exited: the case ends there and the lane starts a new adapter. */
  let lost = false;
  /** Ask the adapter; undefined when it failed. DriverError propagates (the run stops), naming the case. */
  const ask = async (step: number, message: Record<string, unknown>): Promise<Record<string, unknown> | undefined> => {
    try {
      const a = await adapter.request(message);
      wire.lastActivity = Math.max(wire.lastActivity, performance.now());
      if (!a.ok) adapterProblems.push({ step, event: eventOf(step), expected: `ok:true to ${String(message.type)}`, received: `ok:false: ${String(a.error)}` });
      return a.ok ? a : undefined;
    } catch (err) {
      if (err instanceof DriverError) err.message = `in case ${c.id}: ${err.message}`;
      if (!(err instanceof AdapterTimeout || err instanceof AdapterExited)) throw err;
      lost = true;
      adapterProblems.push({ step, event: eventOf(step), expected: `an answer to ${String(message.type)}`, received: err.message });
      return undefined;
    }
  };
  const quiet = () => waitQuiet(wire, quietMs, c);
  try {
    const started = await ask(0, { type: 'start', case: c.id, serverUrl: wire.serverUrl, roomToken: wire.roomToken, auth: wire.auth });
    if (started) {
      let going = true;
      for (let i = 0; i < c.steps.length && going; i++) {
        wire.step = i + 1;
        const a = await ask(i + 1, { type: 'event', event: c.steps[i].event });
        if (lost) going = false;
        observed.push(a ? pickObserved(a) : {});
        // Model cases judge each step on a quiet wire; wire cases send their events back to back.
        if (c.kind !== 'wire') await quiet();
      }
      if (going) {
        if (c.kind === 'wire' && c.fault?.answer !== 'slow') await quiet();
        wire.step = c.steps.length + 1;
        await ask(c.steps.length + 1, { type: 'leave' });
        await quiet();
      }
      if (!lost) await ask(c.steps.length + 1, { type: 'stop' });
    }
  } finally {
    server.close(wire);
  }
  const verdict = judge({ c, adapter: info, observed, requests: wire.requests, roomPath: new URL(`${wire.serverUrl}/rooms/${wire.roomToken}`).pathname, adapterProblems });
  return {
    lost,
    result: { ...base(c), ...verdict, observed, requests: wire.requests, stderr: adapter.takeStderr(), durationMs: Math.round(performance.now() - t0) },
  };
}

/** The self-report fields as sent, whatever their type (the judge names a wrong one). */
function pickObserved(a: Record<string, unknown>): ObservedStep {
  const o: ObservedStep = {};
  for (const k of ['state', 'connections', 'sendStreams', 'recvStreams'] as const) if (k in a) o[k] = a[k];
  return o;
}

/** No request for `quietMs` after the last answer or arrival; a retry case also waits out the Retry-After. */
async function waitQuiet(wire: CaseWire, quietMs: number, c: ConformCase): Promise<void> {
  for (;;) {
    const now = performance.now();
    const hold = wire.faultAnsweredAt !== undefined && isRetried(c.fault?.answer) ? wire.faultAnsweredAt + RETRY_AFTER_S * 1000 + quietMs : 0;
    const until = Math.max(wire.lastActivity + quietMs, hold);
    if (now >= until) return;
    await new Promise((r) => setTimeout(r, Math.max(5, until - now)));
  }
}
