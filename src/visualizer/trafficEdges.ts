// Which drawn edges a reported transition took. The server counts transitions as (from, event, to): the session's
// state before a report, the report's event and its settled state. One such transition may take two drawn edges
// (waiting --Session.connectionCreated--> starting, then the eventless starting -> sending), so the path is read from
// the machine: every (state, counters) configuration reachable within a bound is stepped with every event, and the
// candidates that fired (the event's, then any settling step) are recorded under the (from, event, to) they produce.
import { ROOM_EVENTS, type RoomCounters, type RoomState } from '../../machines/domain';
import { firedCandidates } from '../model/candidates';
import { countersOf, initialRoomSnapshot, stepRoom, type RoomSnapshot } from '../model/step';
import { diagramEdges } from '../model/diagramEdges';

/** The drawn edge ids one transition takes, in order; empty for a counter-only step (drawn nowhere). */
export type EdgePath = readonly string[];

export const transitionKey = (from: string, event: string, to: string) => `${from}|${event}|${to}`;

/**
 * (from, event, to) -> the drawn edges taken, for every transition the machine can make from a configuration
 * whose counters stay within `bound`. Throws when one key could take two different paths: the counts could then
 * not be drawn from (from, event, to) alone (a test runs this at several bounds).
 */
export function transitionPaths(bound = 4): Map<string, EdgePath> {
  const edgeOfCandidate = new Map(diagramEdges().map((e) => [e.candidate.id, e.id]));
  const paths = new Map<string, EdgePath>();
  const seen = new Set<string>();
  const queue: RoomSnapshot[] = [initialRoomSnapshot()];
  const configKey = (s: RoomSnapshot) => `${String(s.value)}|${JSON.stringify(countersOf(s))}`;
  seen.add(configKey(queue[0]));
  while (queue.length > 0) {
    const snapshot = queue.shift() as RoomSnapshot;
    const from = snapshot.value as RoomState;
    const before = countersOf(snapshot);
    for (const event of ROOM_EVENTS) {
      const { snapshot: next, step } = stepRoom(snapshot, event);
      if (!step.accepted) continue;
      const path = firedCandidates(from, before, event, step.counters).flatMap(({ id }) => {
        const edge = edgeOfCandidate.get(id);
        return edge ? [edge] : [];
      });
      const key = transitionKey(from, event, step.state);
      const known = paths.get(key);
      if (known && known.join() !== path.join()) throw new Error(`transition ${key} takes two paths: ${known.join(' + ')} and ${path.join(' + ')}`);
      paths.set(key, path);
      if (!within(step.counters, bound)) continue;
      const k = configKey(next);
      if (!seen.has(k)) {
        seen.add(k);
        queue.push(next);
      }
    }
  }
  return paths;
}

const within = (c: RoomCounters, bound: number) => c.connections <= bound && c.sendStreams <= bound && c.recvStreams <= bound;

export interface Transition {
  from: string;
  to: string;
  event: string;
  count: number;
}

export interface EdgeCounts {
  /** Drawn edge id -> transitions along it (every drawn edge present, 0 when unused). */
  edges: Map<string, number>;
  /** Transitions that changed only counters (a self-transition the diagram does not draw). */
  counterOnly: number;
  /** Transitions no machine path explains (a wrong or unknown state or event): not on the diagram. */
  offDiagram: Transition[];
}

let cached: Map<string, EdgePath> | undefined;

/** Put the server's transition counts on the drawn edges. */
export function countEdges(transitions: readonly Transition[], paths: ReadonlyMap<string, EdgePath> = (cached ??= transitionPaths())): EdgeCounts {
  const edges = new Map(diagramEdges().map((e) => [e.id, 0]));
  let counterOnly = 0;
  const offDiagram: Transition[] = [];
  for (const t of transitions) {
    const path = paths.get(transitionKey(t.from, t.event, t.to));
    if (path === undefined) offDiagram.push(t);
    else if (path.length === 0) counterOnly += t.count;
    else for (const id of path) edges.set(id, (edges.get(id) ?? 0) + t.count);
  }
  return { edges, counterOnly, offDiagram };
}

/**
 * The drawn edges a path of states (as the server holds a session's: each state it settled in) runs along: for each
 * step from one state to the next, every edge some event takes between them (an eventless settling included: waiting
 * to sending goes through starting). A step no machine transition makes adds none.
 */
export function pathEdges(states: readonly string[], paths: ReadonlyMap<string, EdgePath> = (cached ??= transitionPaths())): string[] {
  const out = new Set<string>();
  for (let i = 1; i < states.length; i++)
    for (const [key, path] of paths) {
      const [from, , to] = key.split('|');
      if (from === states[i - 1] && to === states[i]) for (const id of path) out.add(id);
    }
  return [...out];
}
