// Shrinking a failing random walk to a shortest failing prefix: first cut at the first divergence, then
// fast-check shrinks the prefix length (each try runs the shorter walk against the adapter again).
import fc from 'fast-check';
import { toConformCase } from './cases/model';
import type { CaseResult, ConformCase } from './types';

/** Shrinking stops trying after this long (each try is a run against the adapter). */
export const SHRINK_BUDGET_MS = 60_000;

export async function shrinkWalk(c: ConformCase, failed: CaseResult, run: (shorter: ConformCase) => Promise<CaseResult>): Promise<CaseResult> {
  const events = c.steps.map((s) => s.event);
  const cut = Math.min(events.length, Math.max(1, failed.divergence?.step ?? events.length));
  const tries = new Map<number, CaseResult>([[events.length, failed]]);
  const attempt = async (n: number): Promise<boolean> => {
    if (!tries.has(n)) tries.set(n, await run(toConformCase(c.id, `${c.description}, first ${n} events`, events.slice(0, n), c.auth, undefined, 'walk')));
    return tries.get(n)!.status !== 'failed';
  };
  const out = await fc.check(
    fc.asyncProperty(fc.integer({ min: 1, max: cut }), attempt),
    { examples: [[cut]], numRuns: 1, interruptAfterTimeLimit: SHRINK_BUDGET_MS, markInterruptAsFailure: false },
  );
  const failing = [...tries.entries()].filter(([, r]) => r.status === 'failed').sort((a, b) => a[0] - b[0]);
  const n = out.counterexample ? out.counterexample[0] : failing[0][0];
  const best = tries.get(n) ?? failing[0][1];
  return n < events.length ? { ...best, id: c.id, shrunkFrom: events.length } : best;
}
