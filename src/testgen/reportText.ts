import type { CoverageReport, ItemCoverage } from './coverage';

const STATUS_ORDER: ItemCoverage['status'][] = ['uncovered', 'covered', 'beyond-bound', 'unreachable'];

/** The coverage report as text: one line per item (status, id, what it is, by which case or why not), then totals. */
export function formatCoverageReport(report: CoverageReport): string {
  const width = Math.max(...report.items.map((i) => i.id.length));
  const lines = [`Coverage of the machine's ${report.totals.items} transition candidates and rejections (max count ${report.maxCount}; ${report.cases} cases, ${report.events} events)`, ''];
  for (const status of STATUS_ORDER) {
    const items = report.items.filter((i) => i.status === status);
    if (items.length === 0) continue;
    lines.push(`${status} (${items.length}):`);
    for (const i of items) {
      const by = i.coveredBy.length > 0 ? `by ${i.coveredBy[0].case} step ${i.coveredBy[0].step}${i.coveredBy.length > 1 ? ` (+${i.coveredBy.length - 1} more)` : ''}` : '';
      lines.push(`  ${i.id.padEnd(width)}  ${i.summary}${by ? `  ${by}` : ''}${i.reason ? `\n  ${' '.repeat(width)}  why: ${i.reason}` : ''}`);
    }
    lines.push('');
  }
  lines.push('states:');
  for (const s of report.states) {
    lines.push(`  ${s.state.padEnd(10)} ${s.coveredBy.length > 0 ? `visited by ${s.coveredBy[0].case}${s.coveredBy[0].step > 0 ? ` step ${s.coveredBy[0].step}` : ' (start)'}` : 'not visited'}`);
  }
  const t = report.totals;
  lines.push(
    '',
    `totals: ${t.items} items; ${t.reachable} reachable within max count ${report.maxCount}, ${t.covered} covered (${t.percent}% of reachable), ${t.uncovered} reachable but uncovered; ${t.beyondBound} need a higher max count; ${t.unreachable} unreachable (shadowed, or ruled out by the invariants); states ${t.statesCovered}/${t.states}`,
  );
  return lines.join('\n');
}
