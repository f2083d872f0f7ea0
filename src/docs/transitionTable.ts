// The full transition table, state by state and event by event, in the order XState evaluates the candidates.
import { ROOM_EVENTS, ROOM_STATES } from '../../machines/domain';
import { candidatesOf, settlingOf, type Candidate } from '../model/candidates';
import { exploreGraph } from '../testgen/explore';

/** Bound 3 reaches every candidate that can fire at all (test/testgen/explore.test.ts checks it saturates). */
const SATURATING_BOUND = 3;

const signed = (d: 1 | -1) => (d > 0 ? '+1' : '-1');

export function outcomeOf(c: Candidate): string {
  if (c.kind === 'reject') return `rejected: \`${c.rejection}\` anomaly, nothing changes, no report`;
  if (c.kind === 'settle') return `settles in \`${c.target}\` (same macrostep, no extra report)`;
  if (c.kind === 'transition') return `\`${c.target}\``;
  return 'stays (counter only)';
}

/** One Markdown row per candidate: state, event, order, guard (before the decrement), outcome, whether it can fire, counter change, where written. */
export function transitionTableRows(): string[][] {
  const fires = new Set(exploreGraph(SATURATING_BOUND).edges.flatMap((e) => e.items));
  const rows: string[][] = [];
  for (const state of ROOM_STATES) {
    const lists: Candidate[][] = [...ROOM_EVENTS.map((e) => candidatesOf(state, e)), candidatesOf(state, '*'), settlingOf(state)];
    for (const list of lists) {
      list.forEach((c, i) => {
        const earlier = list.slice(0, i);
        // After an unguarded candidate, XState never tries the rest: show them as shadowed, not as outcomes.
        const shadowedBy = earlier.findIndex((p) => p.guard === undefined);
        const guard = c.guard ? `\`${c.guard}\`` : earlier.length > 0 ? 'otherwise' : '(none)';
        rows.push([
          `\`${state}\``,
          c.event === '*' ? 'any other type' : c.event === 'always' ? '(eventless)' : `\`${c.event}\``,
          String(i + 1),
          guard,
          shadowedBy >= 0 ? `never tried (#${shadowedBy + 1} always fires first)` : outcomeOf(c),
          fires.has(c.id) ? 'yes' : shadowedBy >= 0 ? 'no' : 'no (the 4.2 invariant of this state rules it out)',
          c.counterChange ? `${c.counterChange.counter} ${signed(c.counterChange.delta)}` : '-',
          c.definedOn === 'root' ? 'root (rule 4.1)' : `\`${c.definedOn}\``,
        ]);
      });
    }
  }
  return rows;
}

export function transitionTableMarkdown(): string {
  const head = ['state', 'event', '#', 'guard', 'outcome', 'can fire', 'counter change', 'written on'];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...transitionTableRows().map(line)].join('\n') + '\n';
}
