// One self-contained page (no outside resource): a summary, a per-transition pass/fail matrix (states by
// events, each cell the coverage items of that pair), and per case its events (model vs adapter) and the
// expected and received requests side by side. A failing case links into the visualizer at its first
// divergence and offers its replay file (the visualizer's test-vector format, with what the client did).
import { ROOM_EVENTS, ROOM_STATES } from '../../../machines/domain';
import { coversOfSteps } from '../../testgen/isolate';
import { coverageItems } from '../../testgen/items';
import { encodeFragment } from '../../visualizer/scenario';
import type { CaseResult, RunResult } from '../types';
import { divergenceText, summaryLine } from './text';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const anchor = (id: string) => `case-${id.replace(/[^\w-]/g, '_')}`;
const MARK = { passed: '✓', failed: '✗', skipped: '–' } as const;

export interface HtmlOptions {
  /** The visualizer page the failing cases link to (a URL; its #events= fragment opens a scenario). */
  visualizerUrl?: string;
}

/** What the client did per step, in the visualizer's replay format (a test vector whose steps say what was observed). */
export function replayVector(r: CaseResult): { id: string; description: string; steps: Array<Record<string, unknown>> } {
  const steps = r.steps.map((s, i) => {
    const report = r.requests.find((q) => q.step === i + 1 && /"action"\s*:\s*"status"/.test(q.body));
    let body: Record<string, unknown> = {};
    try {
      body = report ? (JSON.parse(report.body) as Record<string, unknown>) : {};
    } catch {
      body = {};
    }
    const o = r.observed[i] ?? {};
    const out: Record<string, unknown> = { event: s.event, accepted: report !== undefined };
    const state = o.state ?? body.state;
    if (typeof state === 'string') out.state = state;
    for (const k of ['connections', 'sendStreams', 'recvStreams'] as const) {
      const v = o[k] ?? body[k];
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) out[k] = v;
    }
    return out;
  });
  return { id: r.id, description: `what the client did in ${r.id}`, steps };
}

function matrix(run: RunResult): string {
  // An item passes in a case when a step before the first divergence fires it, fails when the divergent
  // step does; steps after the divergence say nothing about it.
  const byItem = new Map<string, Array<{ r: CaseResult; ok: boolean }>>();
  for (const r of run.cases) {
    if (r.status === 'skipped') continue;
    const upTo = r.divergence ? r.divergence.step : Infinity;
    coversOfSteps(r.steps).forEach((items, i) => {
      if (i + 1 > upTo) return;
      for (const id of items) byItem.set(id, [...(byItem.get(id) ?? []), { r, ok: i + 1 < upTo }]);
    });
  }
  const events = [...ROOM_EVENTS, '*', 'always'] as const;
  const head = `<tr><th scope="col">state \\ event</th>${events.map((e) => `<th scope="col">${esc(e === '*' ? 'unknown' : e === 'always' ? '(eventless)' : e)}</th>`).join('')}</tr>`;
  const rows = ROOM_STATES.map((state) => {
    const cells = events.map((event) => {
      const items = coverageItems().filter((i) => i.state === state && i.event === event);
      const marks = items.map((i) => {
        const seen = byItem.get(i.id) ?? [];
        const cs = [...new Set(seen.map((x) => x.r))];
        const failed = [...new Set(seen.filter((x) => !x.ok).map((x) => x.r))];
        const status = cs.length === 0 ? 'notrun' : failed.length > 0 ? 'failed' : 'passed';
        const own = failed[0] ?? cs.find((c) => c.id === `model:${i.id}`) ?? cs[0];
        const label = `${i.summary}: ${status === 'notrun' ? 'not exercised' : status === 'failed' ? `failed in ${failed.map((c) => c.id).join(', ')}` : `passed in ${cs.length} case${cs.length === 1 ? '' : 's'}`}`;
        const text = `${status === 'notrun' ? '·' : MARK[status]}${i.id.split('|')[2]}`;
        return own ? `<a class="${status}" href="#${anchor(own.id)}" title="${esc(label)}">${text}</a>` : `<span class="${status}" title="${esc(label)}">${text}</span>`;
      });
      return `<td>${marks.join(' ')}</td>`;
    });
    return `<tr><th scope="row">${state}</th>${cells.join('')}</tr>`;
  });
  return `<div class="scroll"><table class="matrix" data-testid="matrix"><caption>Per transition (coverage item: state, event, candidate number): ✓ fired without a divergence, ✗ fired at a case's first divergence, · not exercised</caption>${head}${rows.join('')}</table></div>`;
}

/** A self-reported value as sent: JSON unless it has the expected type (a string "1" is not the number 1). */
const shown = (v: unknown, type = 'number') => (v === undefined ? '?' : typeof v === type ? String(v) : JSON.stringify(v));

function caseSection(r: CaseResult, o: HtmlOptions): string {
  const parts: string[] = [];
  if (r.status === 'skipped') parts.push(`<p>Skipped: ${esc(r.reason ?? '')}</p>`);
  if (r.divergence) {
    parts.push(`<p class="divergence" data-testid="divergence">First divergence: ${esc(divergenceText(r.divergence))}</p>`);
    if (r.problems.length > 1) parts.push(`<ul>${r.problems.slice(1).map((p) => `<li>${esc(divergenceText(p))}</li>`).join('')}</ul>`);
    const upTo = Math.min(Math.max(r.divergence.step, 1), r.steps.length);
    const events = r.steps.slice(0, upTo).map((s) => s.event);
    const replay = JSON.stringify([replayVector(r)], null, 1);
    const file = `${r.id.replace(/[^\w.-]/g, '_')}.replay.json`;
    parts.push(
      `<p><a data-testid="visualizer-link" href="${esc(`${o.visualizerUrl ?? 'visualizer.html'}${encodeFragment(events)}`)}">Open in the visualizer at step ${upTo}</a> · ` +
        `<a data-testid="replay-file" download="${esc(file)}" href="data:application/json;charset=utf-8,${esc(encodeURIComponent(replay))}">replay file</a> (drop it on the visualizer: it steps through what the client did and marks where it disagrees with the model)</p>`,
    );
  }
  if (r.status !== 'skipped') {
    const stepRows = r.steps.map((s, i) => {
      const o2 = r.observed[i] ?? {};
      const seen = o2.state === undefined && o2.connections === undefined ? '' : `${shown(o2.state, 'string')} ${shown(o2.connections)}/${shown(o2.sendStreams)}/${shown(o2.recvStreams)}`;
      const bad = r.problems.some((p) => p.step === i + 1);
      return `<tr${bad ? ' class="bad"' : ''}><td>${i + 1}</td><td>${esc(s.event)}</td><td>${s.accepted ? 'report' : 'rejected'}</td><td>${s.state} ${s.connections}/${s.sendStreams}/${s.recvStreams}</td><td>${esc(seen)}</td></tr>`;
    });
    parts.push(`<table><caption>Events: the model vs what the adapter answered (state connections/sendStreams/recvStreams)</caption><tr><th>#</th><th>event</th><th>model</th><th>model after</th><th>adapter after</th></tr>${stepRows.join('')}</table>`);
    const n = Math.max(r.expectedRequests.length, r.requests.length);
    const rows = Array.from({ length: n }, (_, k) => {
      const e = r.expectedRequests[k];
      const q = r.requests[k];
      const got = q
        ? `<code>${esc(q.body)}</code><br><small>at ${q.at} ms, step ${q.step}, answered ${q.answer === 0 ? 'by dropping the connection' : q.answer}${q.authProblem ? `, <strong>authorization: ${esc(q.authProblem)}</strong>` : ', authorization valid'}</small><details><summary>headers</summary><pre>${esc(Object.entries(q.headers).map(([h, v]) => `${h}: ${v}`).join('\n'))}</pre></details>`
        : '—';
      return `<tr><td>${k + 1}</td><td>${e ? `<code>${esc(e.body)}</code>${e.note ? `<br><small>${esc(e.note)}</small>` : ''}<br><small>step ${e.step}</small>` : '—'}</td><td>${got}</td></tr>`;
    });
    parts.push(`<table class="requests"><caption>Requests: expected and received, side by side</caption><tr><th>#</th><th>expected</th><th>received</th></tr>${rows.join('')}</table>`);
    if (r.stderr) parts.push(`<details><summary>adapter stderr</summary><pre>${esc(r.stderr)}</pre></details>`);
  }
  return `<details id="${anchor(r.id)}" class="case ${r.status}" data-status="${r.status}" data-case="${esc(r.id)}"${r.status === 'failed' ? ' open' : ''}><summary>${MARK[r.status]} ${esc(r.id)}: ${esc(r.description)}${r.shrunkFrom ? ` (shrunk from ${r.shrunkFrom} events)` : ''}</summary>${parts.join('')}</details>`;
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:1rem 2rem;color:#111;background:#fff}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left}
caption{text-align:left;font-weight:600;padding:4px 0}.matrix td{text-align:center;white-space:nowrap}.scroll{overflow-x:auto;max-width:100%}
a.passed,span.passed{color:#11652a}a.failed,span.failed{color:#b00020;font-weight:700}.notrun{color:#666}
details.case{border-left:4px solid #11652a;padding-left:.5rem;margin:.4rem 0}details.case.failed{border-color:#b00020}details.case.skipped{border-color:#888}
tr.bad td{background:#fde8ea}.divergence{color:#b00020;font-weight:600}code{white-space:pre-wrap;word-break:break-all}pre{white-space:pre-wrap}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}td,th{border-color:#555}a{color:#8ab4f8}a.passed,span.passed{color:#7bd88f}a.failed,span.failed,.divergence{color:#ff7b8a}tr.bad td{background:#4a1c22}}`;

export function formatHtml(run: RunResult, o: HtmlOptions = {}): string {
  const failed = run.cases.filter((c) => c.status === 'failed');
  const others = run.cases.filter((c) => c.status !== 'failed');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Conformance: ${esc(run.adapter.name)}</title><style>${STYLE}</style></head>
<body data-failed="${run.summary.failed}">
<h1>Conformance of ${esc(run.adapter.name)}</h1>
<p data-testid="summary">${esc(summaryLine(run))}. Adapter: <code>${esc(run.command)}</code>; auth ${esc(run.adapter.auth.join(', '))}; observes ${esc(run.adapter.observes.join(', ') || 'nothing')}; max count ${run.maxCount}; started ${esc(run.startedAt)}.</p>
<h2>Transitions</h2>${matrix(run)}
<h2>Failed cases (${failed.length})</h2>${failed.map((r) => caseSection(r, o)).join('\n') || '<p>None.</p>'}
<h2>Other cases (${others.length})</h2>${others.map((r) => caseSection(r, o)).join('\n')}
</body></html>
`;
}
