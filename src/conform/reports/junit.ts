// JUnit XML: one testsuite per kind of case, one testcase per case, a failure with expected vs observed.
import type { CaseResult, RunResult } from '../types';
import { divergenceText } from './text';

const xml = (s: string) =>
  s
    // Characters XML 1.0 cannot carry at all (an adapter's stderr may hold any byte).
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function testcase(r: CaseResult): string {
  const open = `    <testcase classname="conform.${r.kind}" name="${xml(r.id)}" time="${seconds(r.durationMs)}">`;
  const parts: string[] = [];
  if (r.status === 'skipped') parts.push(`      <skipped message="${xml(r.reason ?? '')}"/>`);
  if (r.status === 'failed') {
    const d = r.divergence!;
    const detail = r.problems.map((p) => divergenceText(p)).join('\n');
    parts.push(`      <failure message="${xml(divergenceText(d))}" type="divergence">${xml(detail)}</failure>`);
  }
  if (r.stderr) parts.push(`      <system-err>${xml(r.stderr)}</system-err>`);
  return parts.length === 0 ? `${open.slice(0, -1)}/>` : [open, ...parts, '    </testcase>'].join('\n');
}

export function formatJunit(run: RunResult): string {
  const kinds = [...new Set(run.cases.map((c) => c.kind))];
  const suites = kinds.map((kind) => {
    const cs = run.cases.filter((c) => c.kind === kind);
    const n = (s: CaseResult['status']) => cs.filter((c) => c.status === s).length;
    const time = cs.reduce((t, c) => t + c.durationMs, 0);
    return [`  <testsuite name="conform ${kind} cases (${xml(run.adapter.name)})" tests="${cs.length}" failures="${n('failed')}" errors="0" skipped="${n('skipped')}" time="${seconds(time)}" timestamp="${run.startedAt.replace(/\.\d+Z$/, '')}">`, ...cs.map(testcase), '  </testsuite>'].join('\n');
  });
  const s = run.summary;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="loop-room-state conform" tests="${s.total}" failures="${s.failed}" errors="0" skipped="${s.skipped}" time="${seconds(run.durationMs)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
