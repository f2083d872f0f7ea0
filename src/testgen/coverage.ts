// coverageOf: replay test cases through the model and say which coverage items they exercise;
// name every item that is not reachable within the bound, and why.
import { ROOM_COUNTERS, ROOM_STATES, type RoomState } from '../../machines/domain';
import { candidatesOf, firingCandidate, settlingOf } from '../model/candidates';
import { initialRoomSnapshot, stepRoom } from '../model/step';
import { DEFAULT_MAX_COUNT, checkMaxCount, exploreGraph, type GraphNode, type TestGraph } from './explore';
import { coverageItems, firedCandidates, type CoverageItem } from './items';
import type { TestCase } from './types';
import { toTestStep } from './vectors';

/** A step that exercises a coverage item or reaches a state: which case, which step. */
export interface CoveredBy {
  /** The case's id. */
  case: string;
  /** 1-based step number within the case. */
  step: number;
}

/** Where a coverage item stands in a report: covered, reachable but uncovered, beyond the counter bound, or never reachable. */
export type ItemStatus =
  /** Exercised by at least one step. */
  | 'covered'
  /** Reachable within the bound, but no step exercises it. */
  | 'uncovered'
  /** Reachable only with a higher counter bound. */
  | 'beyond-bound'
  /** Never fires: shadowed by an earlier unguarded candidate, or ruled out by the invariants of spec 4.2. */
  | 'unreachable';

/** One coverage item in a report: the item, its status and the steps that exercise it. */
export interface ItemCoverage extends CoverageItem {
  status: ItemStatus;
  /** Every step that exercises it, in case order (empty when not covered). */
  coveredBy: CoveredBy[];
  /** Why it is not reachable within the bound (for 'beyond-bound' and 'unreachable'). */
  reason?: string;
}

/**
 * What coverageOf() found: every coverage item and state with the steps covering it, and the totals. Print
 * it with formatCoverageReport(), or check `totals.percent` in a test.
 */
export interface CoverageReport {
  /** The counter bound "reachable" was judged under. */
  maxCount: number;
  /** How many cases were replayed. */
  cases: number;
  /** How many events (steps) they had in all. */
  events: number;
  items: ItemCoverage[];
  states: Array<{ state: RoomState; coveredBy: CoveredBy[] }>;
  totals: {
    items: number;
    /** Items some path reaches within the bound: the denominator of `percent`. */
    reachable: number;
    covered: number;
    /** covered / reachable * 100, covered counting only reachable items. */
    percent: number;
    uncovered: number;
    beyondBound: number;
    unreachable: number;
    states: number;
    statesCovered: number;
  };
}

/** What coverageOf() takes besides the cases. */
export interface CoverageOptions {
  /** The counter bound that defines "reachable"; default: the larger of 2 and the highest counter in the cases. */
  maxCount?: number;
}

/** Replay each case through the model: the expected values must be the model's, else this throws naming the step. */
export function coverageOf(cases: readonly TestCase[], options: CoverageOptions = {}): CoverageReport {
  if (!Array.isArray(cases)) throw new TypeError('coverageOf: cases must be an array of test cases');
  const hits = new Map<string, CoveredBy[]>();
  const stateHits = new Map<string, CoveredBy[]>();
  const hit = (map: Map<string, CoveredBy[]>, key: string, by: CoveredBy) => map.set(key, [...(map.get(key) ?? []), by]);
  let events = 0;
  let highest = 0;
  for (const c of cases) {
    checkCase(c);
    let snapshot = initialRoomSnapshot();
    if (c.steps.length > 0) hit(stateHits, 'init', { case: c.id, step: 0 });
    c.steps.forEach((expected, i) => {
      const before = snapshot;
      const r = stepRoom(before, { type: expected.event });
      const actual = toTestStep(r.step);
      const diff = (Object.keys(actual) as Array<keyof typeof actual>).filter((k) => actual[k] !== expected[k]);
      if (diff.length > 0) {
        throw new Error(`case ${c.id} step ${i + 1} (${expected.event}): the vector says ${diff.map((k) => `${k}=${String(expected[k])}`).join(', ')}, the model says ${diff.map((k) => `${k}=${String(actual[k])}`).join(', ')}`);
      }
      const by = { case: c.id, step: i + 1 };
      for (const fired of firedCandidates(before.value as RoomState, before.context, expected.event, r.step.counters)) hit(hits, fired.id, by);
      hit(stateHits, actual.state, by);
      events++;
      highest = Math.max(highest, actual.connections, actual.sendStreams, actual.recvStreams);
      snapshot = r.snapshot;
    });
  }
  const maxCount = checkMaxCount(options.maxCount ?? Math.max(DEFAULT_MAX_COUNT, highest));
  const within = exploreGraph(maxCount);
  const reachable = new Set(within.edges.flatMap((e) => e.items));
  // One bound higher tells "needs a higher bound" from "never": for this machine every reachable item is
  // reached by bound 3 (three parties), so beyond that the two explorations agree.
  const above = exploreGraph(Math.max(maxCount + 1, 3));
  const reachableAbove = new Set(above.edges.flatMap((e) => e.items));

  const items: ItemCoverage[] = coverageItems().map((item) => {
    const coveredBy = hits.get(item.id) ?? [];
    if (coveredBy.length > 0) return { ...item, status: 'covered', coveredBy };
    if (reachable.has(item.id)) return { ...item, status: 'uncovered', coveredBy };
    if (reachableAbove.has(item.id)) return { ...item, status: 'beyond-bound', coveredBy, reason: beyondBoundReason(item, above, maxCount) };
    return { ...item, status: 'unreachable', coveredBy, reason: unreachableReason(item, above) };
  });
  const reachableStates = new Set([...within.nodes.values()].map((n) => n.state));
  const states = ROOM_STATES.map((state) => ({ state, coveredBy: stateHits.get(state) ?? [] }));
  const count = (s: ItemStatus) => items.filter((i) => i.status === s).length;
  const coveredReachable = items.filter((i) => i.status === 'covered' && reachable.has(i.id)).length;
  return {
    maxCount,
    cases: cases.length,
    events,
    items,
    states,
    totals: {
      items: items.length,
      reachable: reachable.size,
      covered: count('covered'),
      percent: reachable.size === 0 ? 100 : Math.round((coveredReachable / reachable.size) * 1000) / 10,
      uncovered: count('uncovered'),
      beyondBound: count('beyond-bound'),
      unreachable: count('unreachable'),
      states: reachableStates.size,
      statesCovered: states.filter((s) => s.coveredBy.length > 0 && reachableStates.has(s.state)).length,
    },
  };
}

function checkCase(c: unknown): asserts c is TestCase {
  const ok =
    typeof c === 'object' && c !== null &&
    typeof (c as TestCase).id === 'string' &&
    Array.isArray((c as TestCase).steps) &&
    (c as TestCase).steps.every((s) => typeof s === 'object' && s !== null && typeof s.event === 'string');
  if (!ok) throw new TypeError(`coverageOf: not a test case (needs a string id and steps with string events): ${JSON.stringify(c)?.slice(0, 80)}`);
}

function candidateOf(item: CoverageItem) {
  const list = item.event === 'always' ? settlingOf(item.state) : candidatesOf(item.state, item.event);
  return { list, index: list.findIndex((c) => c.id === item.id) };
}

function beyondBoundReason(item: CoverageItem, above: TestGraph, maxCount: number): string {
  // The fewest events that reach it at the higher bound, and the counter that exceeds the bound there.
  const edge = above.edges.find((e) => e.items.includes(item.id))!;
  const from = above.nodes.get(edge.from)!;
  const to = above.nodes.get(edge.to)!;
  const over = ROOM_COUNTERS.filter((k) => Math.max(from.counters[k], to.counters[k]) > maxCount);
  return `needs ${over.map((k) => `${k} = ${Math.max(from.counters[k], to.counters[k])}`).join(' and ')} (above --max-count ${maxCount}): fires on ${edge.event} in ${describeNode(from)}`;
}

function unreachableReason(item: CoverageItem, above: TestGraph): string {
  const { list, index } = candidateOf(item);
  const shadow = list.slice(0, index).find((c) => c.guard === undefined);
  if (shadow) return `shadowed: ${shadow.id} has no guard and is tried first`;
  const inState = [...above.nodes.values()].filter((n) => n.state === item.state);
  if (inState.length === 0) return `${item.state} is never reached`;
  const invariant = describeInvariant(inState, above.maxCount);
  if (item.event === 'always') {
    const entries = above.edges.filter((e) => e.items.some((id) => id.startsWith(`${item.state}|always|`)) || above.nodes.get(e.to)!.state === item.state);
    const instead = new Set(entries.map((e) => e.items.find((id) => id.startsWith(`${item.state}|always|`)) ?? 'no settling'));
    return `on entering ${item.state} (${invariant}) ${[...instead].join(' or ')} happens instead`;
  }
  const event = item.event === '*' ? 'an unknown event' : item.event;
  const instead = new Set(inState.map((n) => firingCandidate(n.state, n.counters, item.event === '*' ? '*' : item.event).id));
  return `in ${item.state} ${invariant} (spec 4.2, as explored up to max count ${above.maxCount}), so on ${event} ${[...instead].join(' or ')} fires instead`;
}

/** What the exploration shows about the counters in a state: a constant, or a lower bound. */
function describeInvariant(nodes: GraphNode[], bound: number): string {
  return ROOM_COUNTERS.map((k) => {
    const values = nodes.map((n) => n.counters[k]);
    const min = Math.min(...values);
    const max = Math.max(...values);
    if (min === max) return `${k} is always ${min}`;
    if (max === bound) return min === 0 ? `${k} any` : `${k} >= ${min}`;
    return `${k} is ${min}..${max}`;
  }).join(', ');
}

function describeNode(n: GraphNode): string {
  return `${n.state} with connections ${n.counters.connections}, sendStreams ${n.counters.sendStreams}, recvStreams ${n.counters.recvStreams}`;
}
