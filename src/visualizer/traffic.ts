// The traffic view's model: the server's figures turned into what the page draws (edge counts and widths, state
// counts, funnel, ended sessions, time to media, non-conformance), and the replay of a non-conformance example.
// Pure: no DOM, so it is tested in Node and the page only paints it.
import { ROOM_STATES, type RoomState } from '../../machines/domain';
import { diagramEdges } from '../model/diagramEdges';
import { countEdges, type Transition } from './trafficEdges';
import type { NonConformanceRow, SessionReport, TrafficSnapshot } from './trafficWire';

export interface TrafficView {
  edges: Array<{ id: string; count: number; width: number }>;
  states: Array<{ state: RoomState; sessions: number; reached: number }>;
  /** In path order: the main path (init -> waiting -> starting -> sendrecv) first, narrowing, then the side states. */
  funnel: Array<{ state: RoomState; count: number; share: number | null; main: boolean; ofPrevious: number | null }>;
  counterOnly: number;
  offDiagram: Transition[];
  ended: TrafficSnapshot['ended'];
  timeToMedia: TrafficSnapshot['timeToMedia'];
  nonConformance: Array<NonConformanceRow & { key: string; expectedText: string; reportedText: string }>;
  sessions: TrafficSnapshot['sessions'];
  /** The top paths from init, each with its share of the sessions that ended in the window. */
  paths: Array<TrafficSnapshot['paths'][number] & { share: number | null }>;
  /** Each state's entries, time spent and example sessions. */
  figures: TrafficSnapshot['states'];
}

/** The main path, the funnel's order: each step reached by at most as many sessions as the one before. */
export const MAIN_PATH: readonly RoomState[] = ['init', 'waiting', 'starting', 'sendrecv'];
const FUNNEL_ORDER: readonly RoomState[] = [...MAIN_PATH, ...ROOM_STATES.filter((x) => !MAIN_PATH.includes(x))];

/** One way into or out of a state: a machine edge, the state at its other end, its count and share of all that way. */
export interface Way {
  id: string;
  /** The state at the edge's other end (where it comes from, for a way in; goes to, for a way out). */
  other: RoomState;
  event?: string;
  count: number;
  share: number;
}

/** A state's ways in and out in a window: each machine edge from or to another state, busiest first. */
export interface Ways {
  state: RoomState;
  in: Way[];
  out: Way[];
  /** Sessions that ended in the state, by reason. */
  ended: TrafficSnapshot['ended'];
}

export function waysOf(view: TrafficView, state: RoomState): Ways {
  const counts = new Map(view.edges.map((e) => [e.id, e.count]));
  const edges = diagramEdges();
  const ways = (side: 'from' | 'to'): Way[] => {
    const other = side === 'from' ? 'to' : 'from';
    const list = edges.filter((e) => e[side] === state && e[other] !== state).map((e) => ({ id: e.id, other: e[other], ...(e.event ? { event: e.event } : {}), count: counts.get(e.id) ?? 0 }));
    const all = total(list);
    return list.map((e) => ({ ...e, share: all > 0 ? e.count / all : 0 })).sort((a, b) => b.count - a.count);
  };
  return { state, in: ways('to'), out: ways('from'), ended: view.ended.filter((e) => e.state === state) };
}

/** The sum of some ways' counts. */
export const total = (ways: ReadonlyArray<{ count: number }>) => ways.reduce((a, w) => a + w.count, 0);

/** "starting: 40 % -> receiving, 35 % -> sending, ...": a state's ways out as shares, busiest first. */
export function waysOutText(w: Ways): string {
  const used = w.out.filter((e) => e.count > 0);
  if (used.length === 0) return `${w.state}: no session left it in this window`;
  return `${w.state}: ${used.map((e) => `${Math.round(e.share * 100)} % → ${e.other}${e.event ? '' : ' (eventless)'}`).join(', ')}`;
}

/** Stroke width of an edge used `count` times when the busiest edge is used `max` times: 1.5 px unused, up to 9 px. */
export function edgeWidth(count: number, max: number): number {
  if (count <= 0 || max <= 0) return 1.5;
  return Math.round((2.5 + 6.5 * (Math.log1p(count) / Math.log1p(max))) * 10) / 10;
}

export function trafficView(s: TrafficSnapshot): TrafficView {
  const counts = countEdges(s.transitions);
  const max = Math.max(0, ...counts.edges.values());
  const started = s.sessions.started;
  return {
    edges: [...counts.edges].map(([id, count]) => ({ id, count, width: edgeWidth(count, max) })),
    states: ROOM_STATES.map((state) => ({ state, sessions: s.open[state], reached: s.funnel[state] })),
    funnel: FUNNEL_ORDER.map((state, i) => {
      const main = MAIN_PATH.includes(state);
      const before = main && i > 0 ? s.funnel[FUNNEL_ORDER[i - 1]] : 0;
      return { state, count: s.funnel[state], share: started > 0 ? s.funnel[state] / started : null, main, ofPrevious: main && i > 0 && before > 0 ? s.funnel[state] / before : null };
    }),
    counterOnly: counts.counterOnly,
    offDiagram: counts.offDiagram,
    ended: s.ended,
    timeToMedia: s.timeToMedia,
    nonConformance: s.nonConformance.map((n) => ({
      ...n,
      key: nonConformanceKey(n),
      expectedText: n.overflow ? '(not kept)' : n.expected ? snapshotText(n.expected) : '(no answer: unknown name or rejected)',
      reportedText: n.overflow ? '(other mistakes, added up)' : snapshotText(n.reported),
    })),
    sessions: s.sessions,
    paths: s.paths.map((p) => ({ ...p, share: s.sessions.ended > 0 ? p.count / s.sessions.ended : null })),
    figures: s.states,
  };
}

/** Non-conformance groups the traffic panel lists until asked for all of them (the largest first). */
export const NC_SHOWN = 20;

/** A reported or expected state and counters, labelled: "sendrecv: 2 in room, 1 sent, 1 received". */
export const snapshotText = (x: { state: string; connections: number; sendStreams: number; recvStreams: number }) =>
  `${x.state}: ${x.connections} in room, ${x.sendStreams} sent, ${x.recvStreams} received`;

export function nonConformanceKey(n: Pick<NonConformanceRow, 'verdict' | 'from' | 'event' | 'expected' | 'reported'>): string {
  // Every part the server groups by: two rows that differ only in what the model expected are two rows.
  const r = n.reported;
  const e = n.expected;
  return [n.verdict, n.from, n.event, e ? `${e.state}/${e.connections}/${e.sendStreams}/${e.recvStreams}` : '-', r.state, r.connections, r.sendStreams, r.recvStreams].join('|');
}

/** Seconds, for people: "0.84 s", "12 s", "3 min 5 s"; "–" when there is no figure. */
export function seconds(x: number | null): string {
  if (x === null) return '–';
  if (x < 10) return `${x.toFixed(2)} s`;
  if (x < 120) return `${Math.round(x)} s`;
  return `${Math.floor(x / 60)} min ${Math.round(x % 60)} s`;
}

/**
 * The step (1-based, = the report's seq) of `reports` that a non-conformance row stands for: the first report with
 * the row's verdict, the row's state before it (`from`), event, expected and reported state and counters.
 */
export function flaggedStep(reports: readonly SessionReport[], row: Pick<NonConformanceRow, 'verdict' | 'from' | 'event' | 'expected' | 'reported'>): number | undefined {
  const want = nonConformanceKey(row);
  return reports.find((r) => nonConformanceKey({ verdict: r.verdict, from: r.from, event: r.report.event, expected: r.expected ?? null, reported: r.report }) === want)?.seq;
}

/**
 * The step (= the report's seq) at which a session's reports entered `state`: the first report that names it, coming
 * from another state; 0 for init (a join enters it) or when no report does.
 */
export function enteredStep(reports: readonly SessionReport[], state: RoomState): number {
  if (state === 'init') return 0;
  return reports.find((r) => r.report.state === state && r.from !== state)?.seq ?? 0;
}

/** A session's reports as a replay file (an array of status-report bodies) the page's replay mode reads. */
export function replayText(reports: readonly SessionReport[]): string {
  return JSON.stringify(reports.map((r) => r.report));
}
