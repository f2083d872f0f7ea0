// The coverage items: the machine's transition candidates (per guard outcome) and rejections,
// listed from its definition, and which of them one step exercises.
import { isRoomState, type RoomCounters, type RoomState } from '../../machines/domain';
import { allCandidates, firingCandidate, firingSettling, type Candidate } from '../model/candidates';

/**
 * One thing a test suite should exercise: a transition candidate of the machine (per guard outcome), a
 * rejection, or an eventless settling. coverageOf() reports on each.
 */
export interface CoverageItem {
  /** The candidate id: `<state>|<event>|<n>`, `*` for unknown event types, `always` for settling. */
  id: string;
  state: RoomState;
  event: Candidate['event'];
  kind: Candidate['kind'];
  guard?: string;
  target?: RoomState;
  /** One line: what this item is, e.g. `sending --Publisher.streamDestroyed [isLastSendStream]--> cleanup`. */
  summary: string;
}

/** Every coverage item of the machine, listed from its definition (the same list coverageOf() reports on). */
export function coverageItems(): CoverageItem[] {
  return allCandidates().map(toItem);
}

function toItem(c: Candidate): CoverageItem {
  return {
    id: c.id,
    state: c.state,
    event: c.event,
    kind: c.kind,
    ...(c.guard ? { guard: c.guard } : {}),
    ...(c.target ? { target: c.target } : {}),
    summary: summarize(c),
  };
}

function summarize(c: Candidate): string {
  const on = c.event === '*' ? 'any unknown event' : c.event === 'always' ? '(eventless)' : c.event;
  const guard = c.guard ? ` [${c.guard}]` : '';
  if (c.kind === 'reject') return `${c.state} --${on}${guard}--> rejected (${c.rejection})`;
  const change = c.counterChange ? ` ${c.counterChange.counter}${c.counterChange.delta > 0 ? '+1' : '-1'}` : '';
  if (c.kind === 'count') return `${c.state} --${on}${guard}--> ${c.state} (counter only:${change})`;
  return `${c.state} --${on}${guard}--> ${c.target}${change ? ` (${change.trim()})` : ''}`;
}

/** Guards against a machine that settles forever; this one settles in at most one step. */
const MAX_SETTLING = 10;

/** The candidates one event fires: the one chosen for it in `state`, then each eventless settling step after it. */
export function firedCandidates(state: RoomState, counters: RoomCounters, event: string, countersAfter: RoomCounters): Candidate[] {
  const fired = [firingCandidate(state, counters, event)];
  let at = fired[0].target;
  for (let i = 0; at !== undefined && i < MAX_SETTLING; i++) {
    const settle = firingSettling(at, countersAfter);
    if (!settle) break;
    fired.push(settle);
    at = settle.target;
    if (i === MAX_SETTLING - 1) throw new Error(`settling out of ${state} on ${event} does not end`);
  }
  return fired;
}

export function asRoomState(value: unknown): RoomState {
  if (!isRoomState(value)) throw new Error(`not a room state: ${String(value)}`);
  return value;
}
