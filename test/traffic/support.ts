// Shared by the traffic suites: a real room server as `serve` runs it (API, and the built page at / on one port,
// a temp SQLite file, port 0), sessions fed through the package's own client, and what they should produce,
// computed from what was sent by walking the model (not from the server's answers).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOM_STATES, type RoomEventType } from '../../machines/domain';
import { runTraffic, type SessionPlan, type TrafficRun } from '../../src/cli/simulateTraffic';
import { diagramEdges } from '../../src/model/diagramEdges';
import { createServeApp, type ServeAppOptions } from '../../src/server/app';
import type { ListeningRoomServer } from '../../src/server/server';
import type { Store } from '../../src/server/store';
import { PATH_MAX_STATES } from '../../src/traffic/wire';
import { edgeGroups } from '../../src/visualizer/page/edgeGroups';
import { walkScenario } from '../../src/visualizer/scenario';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freshSqlite, type StoreFactory } from '../support/stores';
import { diagramReady } from '../support/visualizerPage';

export interface TrafficServer extends ListeningRoomServer {
  store: Store;
  stop(): Promise<void>;
}

/** `serve`, in process (src/server/app.ts, what the CLI runs): the API and the built page at / on one port. */
export async function startServe(
  options: { dir?: string; adminToken?: string; corsOrigins?: string[]; store?: StoreFactory } & Pick<ServeAppOptions, 'now' | 'hawkSkewSec'> = {},
): Promise<TrafficServer> {
  const fresh = await (options.store ?? freshSqlite)();
  const server = await createServeApp({
    store: fresh.store,
    port: 0,
    ...(options.now ? { now: options.now } : {}),
    ...(options.hawkSkewSec ? { hawkSkewSec: options.hawkSkewSec } : {}),
    ...(options.adminToken ? { adminToken: options.adminToken } : {}),
    ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
    ...(options.dir ? { html: readFileSync(join(options.dir, 'visualizer.html'), 'utf8') } : {}),
  });
  return {
    ...server,
    store: fresh.store,
    stop: async () => {
      await server.close();
      await fresh.cleanup();
    },
  };
}

/** A clean session walking `events`, or a broken one whose last status report carries a misspelt state. */
export function plan(name: string, events: RoomEventType[], options: { misspeltLast?: boolean; leave?: boolean } = {}): SessionPlan {
  return { name, events, leave: options.leave ?? true, ...(options.misspeltLast ? { fault: { kind: 'misspelt-state' as const, at: events.length - 1 } } : {}) };
}

export async function feed(serverUrl: string, plans: SessionPlan[]): Promise<TrafficRun> {
  const run = await runTraffic(serverUrl, plans, 2);
  if (run.failures.length > 0) throw new Error(run.failures.join('\n'));
  return run;
}

const EDGE_OF_CANDIDATE = new Map(diagramEdges().map((e) => [e.candidate.id, e.id]));
const TARGET_OF_CANDIDATE = new Map(diagramEdges().map((e) => [e.candidate.id, e.candidate.target]));
const GROUPS = edgeGroups(diagramEdges());

/** Edge counts as the diagram draws them: a line drawn for several edges (the call frame's) carries their sum. */
export function drawnAs(edges: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, n] of Object.entries(edges)) {
    const line = GROUPS.find((g) => g.members.some((m) => m.id === id))?.id ?? id;
    out[line] = (out[line] ?? 0) + n;
  }
  return out;
}

export interface Expected {
  edges: Record<string, number>;
  funnel: Record<string, number>;
  open: Record<string, number>;
  /** Sessions that left, by the state they ended in. */
  ended: Record<string, number>;
  nonConformance: Array<{ verdict: string; from: string; event: string; reported: string; count: number }>;
  /** Times each state was entered (a join enters init), visits that ended (a change of state, or the session's end). */
  entered: Record<string, number>;
  visitsEnded: Record<string, number>;
  /** Sessions that left, by the states they were in (a state repeated only when left and entered again), cut as the server cuts them. */
  paths: Record<string, number>;
}

/**
 * What the traffic view must show for these plans: edges each step took by the model's own walk; the states each
 * session's reports reached (and init, where every session starts); open sessions by their last known state; the misspelt reports as unknown-state rows.
 * A misspelt last report names no state, so its step is on no edge and reaches nothing.
 */
export function expected(plans: readonly SessionPlan[]): Expected {
  const edges = Object.fromEntries(diagramEdges().map((e) => [e.id, 0]));
  const funnel = Object.fromEntries(ROOM_STATES.map((s) => [s, 0]));
  const open = Object.fromEntries(ROOM_STATES.map((s) => [s, 0]));
  const ended: Record<string, number> = {};
  const rows = new Map<string, Expected['nonConformance'][number]>();
  const entered = Object.fromEntries(ROOM_STATES.map((s) => [s, 0]));
  const visitsEnded = Object.fromEntries(ROOM_STATES.map((s) => [s, 0]));
  const paths: Record<string, number> = {};
  for (const p of plans) {
    const steps = walkScenario(p.events).steps;
    const broken = p.fault?.kind === 'misspelt-state';
    const counted = broken ? steps.slice(0, -1) : steps;
    for (const s of counted) for (const c of s.taken) edges[EDGE_OF_CANDIDATE.get(c) ?? 'none']++;
    // Every session is at init from its join; the rest by its reports, every state a step's drawn edges enter included
    // (waiting --Session.connectionCreated--> sending reaches starting on the way).
    for (const state of new Set(['init', ...counted.flatMap((s) => [...s.taken.map((c) => TARGET_OF_CANDIDATE.get(c)).filter((t) => t !== undefined), s.state])])) funnel[state]++;
    // A session is in its last known state: a misspelt last report leaves the one before.
    const last = counted[counted.length - 1].state;
    if (p.leave) ended[last] = (ended[last] ?? 0) + 1;
    else open[last]++;
    const path = ['init'];
    for (const s of counted) if (s.state !== path[path.length - 1]) path.push(s.state);
    for (const [i, state] of path.entries()) {
      entered[state]++;
      if (i < path.length - 1 || p.leave) visitsEnded[state]++;
    }
    // A path is cut at PATH_MAX_STATES states; ' …' marks one that went on.
    const key = path.slice(0, PATH_MAX_STATES).join(' ') + (path.length > PATH_MAX_STATES ? ' …' : '');
    if (p.leave) paths[key] = (paths[key] ?? 0) + 1;
    if (broken) {
      const last = steps[steps.length - 1];
      const reported = `${last.state[0].toUpperCase()}${last.state.slice(1)}: ${last.counters.connections} in room, ${last.counters.sendStreams} sent, ${last.counters.recvStreams} received`;
      const key = `${last.from}|${last.event}|${reported}`;
      const row = rows.get(key) ?? { verdict: 'unknown-state', from: last.from, event: last.event, reported, count: 0 };
      row.count++;
      rows.set(key, row);
    }
  }
  delete edges.none;
  return { edges, funnel, open, ended, nonConformance: [...rows.values()], entered, visitsEnded, paths };
}

/**
 * Each test of the calling block on a fresh 1280x800 page of the server's, its diagram drawn; after it, no uncaught
 * error on the page. `page()` is the current test's page.
 */
export function useServedPage(browser: () => Browser, server: () => { origin: string }): { page(): Page } {
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  beforeEach(async () => {
    context = await browser().newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server().origin}/`);
    await diagramReady(page);
  });
  afterEach(async () => {
    await context.close();
    expect(errors).toEqual([]);
  });
  return { page: () => page };
}
