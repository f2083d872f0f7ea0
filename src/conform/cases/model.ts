// Model cases: one short case per coverage item (the shortest prefix that reaches the item, then the item's
// event), and the unknown events a lenient client would take for real ones. Each case ends with a leave,
// which the runner adds. One bug then fails the cases of the items it breaks, not one long tour.
import { ROOM_EVENTS, type RoomEventType } from '../../../machines/domain';
import { exploreGraph } from '../../testgen/explore';
import { coverageItems } from '../../testgen/items';
import { isolatedPaths, itemsOfSteps, shortestPathTo } from '../../testgen/isolate';
import { toTestCase } from '../../testgen/vectors';
import type { AuthScheme, ConformCase } from '../types';

/** Protocol 1.1: the original page's misspellings of real events, each with the event it misspells. */
export const MISSPELLINGS: ReadonlyArray<readonly [string, RoomEventType]> = [
  ['Session.StreamDestroyed', 'Session.streamDestroyed'],
  ['Publisher.StreamDestroyed', 'Publisher.streamDestroyed'],
  ['Sesssion.connectionCreated', 'Session.connectionCreated'],
];

/** A case variant of an event name (all lower case): a client matching names case-insensitively takes it. */
export const caseVariant = (event: string): string => event.toLowerCase();

export function modelCases(maxCount: number, auth: AuthScheme): ConformCase[] {
  const graph = exploreGraph(maxCount);
  const byId = new Map(coverageItems().map((i) => [i.id, i]));
  const cases: ConformCase[] = isolatedPaths(graph).map(({ item, events }) =>
    toConformCase(`model:${item}`, `${byId.get(item)?.summary ?? item}`, events, auth, item),
  );
  const unknown: Array<[string, RoomEventType, string]> = [
    ...MISSPELLINGS.map(([name, real]) => [name, real, 'misspelling'] as [string, RoomEventType, string]),
    ...ROOM_EVENTS.map((real) => [caseVariant(real), real, 'case variant'] as [string, RoomEventType, string]),
  ];
  for (const [name, real, what] of unknown) {
    // Where the real event would be accepted, so taking the unknown one for it shows (a report, a counter).
    const prefix = shortestPathTo(graph, (e) => e.event === real && e.accepted);
    if (!prefix) continue;
    const events = [...prefix.slice(0, -1).map((e) => e.event), name, real];
    cases.push(toConformCase(`model:unknown:${name}`, `${name} (${what} of ${real}) is rejected as unknown; ${real} after it still counts from the right value`, events, auth));
  }
  return cases;
}

export function toConformCase(id: string, description: string, events: readonly string[], auth: AuthScheme, item?: string, kind: ConformCase['kind'] = 'model'): ConformCase {
  const steps = toTestCase(id, description, events).steps;
  return { id, kind, description, items: itemsOfSteps(steps), ...(item ? { item } : {}), auth, steps };
}
