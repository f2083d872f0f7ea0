// The console report: one line per failing case with its first divergence (printed as the case ends),
// then the skipped ones, the requests no case could be found for, and a summary.
import type { CaseResult, Divergence, RunResult } from '../types';

export function divergenceText(d: Divergence): string {
  const where = d.step === 0 ? 'at start' : `step ${d.step} (${d.event})`;
  return `${where}: expected ${d.expected}; received ${d.received}`;
}

export function caseLine(r: CaseResult): string {
  if (r.status === 'skipped') return `SKIP ${r.id}: ${r.reason ?? ''}`;
  if (r.status === 'passed') return `ok   ${r.id}`;
  const more = r.problems.length > 1 ? ` (+${r.problems.length - 1} more)` : '';
  const shrunk = r.shrunkFrom ? ` [shrunk from ${r.shrunkFrom} to ${r.steps.length} events]` : '';
  return `FAIL ${r.id}${shrunk}: ${divergenceText(r.divergence!)}${more}`;
}

export function summaryLine(run: RunResult): string {
  const s = run.summary;
  return `${s.total} cases against '${run.adapter.name}': ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped (${s.events} events, ${(run.durationMs / 1000).toFixed(1)} s)`;
}

/** What follows the live FAIL lines at the end of a run. */
export function formatEnd(run: RunResult): string {
  const skipped = run.cases.filter((r) => r.status === 'skipped').map(caseLine);
  const strays = run.strays.map((s) => `STRAY ${s.method} ${s.path}: no case's room token in the path (answered 404)`);
  return [...skipped, ...strays, summaryLine(run)].join('\n');
}
