// The side tables: what the diagram does not draw (rejections and counter-only self-transitions), from the machine.
import { ROOM_STATES } from '../../../machines/domain';
import { allCandidates, type Candidate } from '../../model/candidates';

export function rejectionSummary(rejects: readonly Candidate[]): string[] {
  return rejects.map((c) =>
    c.event === '*' ? 'rejects any other event type (unknown-event)' : `rejects ${c.event} when ${c.guard ?? 'always'} (${c.rejection})`,
  );
}

/**
 * One row per (event, guard, outcome) that the diagram does not draw, with the states it applies in:
 * the rejections and the counter-only self-transitions (rule 4.1 puts most of them in every state).
 */
export function sideTableRows(): Array<{ event: string; guard: string; outcome: string; states: string; kind: 'reject' | 'count' }> {
  const rows = new Map<string, { event: string; guard: string; outcome: string; states: string[]; kind: 'reject' | 'count' }>();
  for (const c of allCandidates()) {
    if (c.kind !== 'reject' && c.kind !== 'count') continue;
    const event = c.event === '*' ? 'any other type' : c.event;
    const guard = c.guard ?? (c.index > 0 ? 'otherwise' : '-');
    const outcome = c.kind === 'reject' ? `rejected: ${c.rejection} (no report)` : `counts only: ${c.counterChange?.counter} ${c.counterChange?.delta === 1 ? '+1' : '-1'}`;
    const key = `${event}|${guard}|${outcome}`;
    const row = rows.get(key) ?? { event, guard, outcome, states: [], kind: c.kind };
    row.states.push(c.state);
    rows.set(key, row);
  }
  return [...rows.values()]
    .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'reject' ? -1 : 1))
    .map((r) => ({ ...r, states: r.states.length === ROOM_STATES.length ? 'every state' : r.states.join(', ') }));
}
