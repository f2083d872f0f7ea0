// A scenario is a list of event types walked through the model from `init`, optionally with what an outside
// source (a replay file or a live session) said each step did; the page shows it and flags any disagreement.
import { COUNTING, ROOM_COUNTERS, ROOM_EVENTS, isRoomEventType, type RoomCounters, type RoomEventType, type RoomState } from '../../machines/domain';
import { firedCandidates } from '../model/candidates';
import { initialRoomSnapshot, stepRoom, countersOf, type RoomSnapshot, type RoomStep } from '../model/step';

/** What a replay file or a live session claims one step did. Any field may be absent (a status report has no `accepted`). */
export interface Observed {
  accepted?: boolean;
  state?: RoomState | string;
  connections?: number;
  sendStreams?: number;
  recvStreams?: number;
}

export interface ScenarioStep extends RoomStep {
  /** 1-based position in the scenario. */
  n: number;
  /** The state before the event. */
  from: RoomState;
  observed?: Observed;
  /** One line per field where `observed` disagrees with the model; empty when they agree. */
  mismatches: string[];
  /** Ids of the machine candidates this step took (the event's, then a settling step's), for highlighting edges. */
  taken: string[];
}

export interface ScenarioView {
  steps: ScenarioStep[];
  state: RoomState;
  counters: RoomCounters;
  snapshot: RoomSnapshot;
}

/**
 * Walk `events` from `init`. `observed[i]`, when given, is compared with step i.
 * `previous`, when its steps are a prefix of this scenario, is extended instead of walked again
 * (a live session of thousands of steps would otherwise be re-walked on every new event).
 */
export function walkScenario(events: readonly string[], observed?: ReadonlyArray<Observed | undefined>, previous?: ScenarioView): ScenarioView {
  const reuse = previous && isPrefix(previous, events, observed) ? previous : undefined;
  let snapshot = reuse ? reuse.snapshot : initialRoomSnapshot();
  const steps: ScenarioStep[] = reuse ? reuse.steps.slice() : [];
  for (let i = steps.length; i < events.length; i++) {
    const type = events[i];
    const from = snapshot.value as RoomState;
    const before = countersOf(snapshot);
    const r = stepRoom(snapshot, { type });
    snapshot = r.snapshot;
    const seen = observed?.[i];
    const taken = r.step.accepted ? takenBy(from, before, type, r.step.counters) : [];
    steps.push({ ...r.step, n: i + 1, from, ...(seen ? { observed: seen } : {}), mismatches: seen ? disagreements(r.step, seen) : [], taken });
  }
  return { steps, state: snapshot.value as RoomState, counters: countersOf(snapshot), snapshot };
}

function isPrefix(view: ScenarioView, events: readonly string[], observed?: ReadonlyArray<Observed | undefined>): boolean {
  if (view.steps.length > events.length) return false;
  return view.steps.every((s, i) => s.event === events[i] && sameObserved(s.observed, observed?.[i]));
}

function sameObserved(a: Observed | undefined, b: Observed | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.accepted === b.accepted && a.state === b.state && ROOM_COUNTERS.every((c) => a[c] === b[c]);
}

function takenBy(from: RoomState, before: RoomCounters, event: string, after: RoomCounters): string[] {
  return firedCandidates(from, before, event, after).map((c) => c.id);
}

function disagreements(step: RoomStep, seen: Observed): string[] {
  const out: string[] = [];
  if (seen.accepted !== undefined && seen.accepted !== step.accepted)
    out.push(`source says ${seen.accepted ? 'accepted' : 'rejected'}, model says ${step.accepted ? 'accepted' : 'rejected'}`);
  if (seen.state !== undefined && seen.state !== step.state) out.push(`source says state ${seen.state}, model says ${step.state}`);
  for (const c of ROOM_COUNTERS) {
    const v = seen[c];
    if (v !== undefined && v !== step.counters[c]) out.push(`source says ${c} ${v}, model says ${step.counters[c]}`);
  }
  return out;
}

/** What each of the six events would do now: a dry run of the pure step on the current snapshot. */
export interface EventOption {
  event: RoomEventType;
  accepted: boolean;
  /** The settled state it would lead to (the current one when rejected or counter-only). */
  next: RoomState;
  /** Why it would be rejected, in words; absent when accepted. */
  reason?: string;
  anomaly?: 'counter-underflow' | 'unknown-event';
}

/** Each of the six events stepped once from `snapshot` (a dry run), kept per snapshot: buttons and edges share it. */
const dryRuns = new WeakMap<RoomSnapshot, ReadonlyArray<{ event: RoomEventType; step: RoomStep }>>();
function dryRun(snapshot: RoomSnapshot): ReadonlyArray<{ event: RoomEventType; step: RoomStep }> {
  let runs = dryRuns.get(snapshot);
  if (!runs) dryRuns.set(snapshot, (runs = ROOM_EVENTS.map((event) => ({ event, step: stepRoom(snapshot, { type: event }).step }))));
  return runs;
}

export function eventOptions(snapshot: RoomSnapshot): EventOption[] {
  const counters = countersOf(snapshot);
  return dryRun(snapshot).map(({ event, step }) => {
    if (step.accepted) return { event, accepted: true, next: step.state };
    return { event, accepted: false, next: step.state, anomaly: step.anomaly?.reason, reason: rejectionReason(event, counters) };
  });
}

/**
 * The candidates the current snapshot would take now: for each of the six events that would be accepted, the
 * candidate that fires and the settling step after it (a dry run of the pure step, as for the event buttons).
 */
export function availableCandidates(snapshot: RoomSnapshot): Map<string, RoomEventType> {
  const from = snapshot.value as RoomState;
  const before = countersOf(snapshot);
  const out = new Map<string, RoomEventType>();
  for (const { event, step } of dryRun(snapshot)) {
    if (!step.accepted) continue;
    for (const id of takenBy(from, before, event, step.counters)) if (!out.has(id)) out.set(id, event);
  }
  return out;
}

/** What each counter stops at zero, in plain words: what a rejected decrement would have taken away. */
const NOTHING_TO_TAKE: Readonly<Record<keyof RoomCounters, string>> = {
  connections: 'nobody is connected, so no connection can end',
  sendStreams: 'you are not sending, so no outgoing video or audio can stop',
  recvStreams: 'no remote video or audio to stop',
};

/** The words for a rejection, plain first and the model's term after; the model is the judge (this only explains what `stepRoom` decided). */
export function rejectionReason(event: string, counters: RoomCounters): string {
  if (!isRoomEventType(event)) return `"${event}" is not one of the six events the room knows (unknown-event)`;
  const { counter, delta } = COUNTING[event];
  return delta < 0 && counters[counter] === 0
    ? `${NOTHING_TO_TAKE[counter]} (${counter} is already 0: counter-underflow)`
    : 'rejected by the model in this state';
}

/** The URL fragment that holds a scenario: `#events=A,B,C` (event types are URL-safe; they are still encoded). */
export function encodeFragment(events: readonly string[]): string {
  return events.length === 0 ? '' : `#events=${events.map(encodeURIComponent).join(',')}`;
}

/** Read `#events=...` back; any other fragment is no scenario. Unknown names are kept: the page shows them rejected. */
export function decodeFragment(hash: string): string[] {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  for (const part of body.split('&')) {
    if (!part.startsWith('events=')) continue;
    const list = part.slice('events='.length);
    return list === '' ? [] : list.split(',').map(safeDecode).filter((e) => e.length > 0);
  }
  return [];
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
