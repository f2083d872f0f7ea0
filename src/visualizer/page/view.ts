// The page's panels drawn from a scenario: event buttons, step log, live sessions, side table, announcements.
import { ROOM_COUNTERS } from '../../../machines/domain';
import type { LiveSession } from '../protocol';
import { eventOptions, rejectionReason, type ScenarioView } from '../scenario';
import { el } from './dom';
import { sideTableRows } from './tables';

/** The log shows the newest steps only (and says how many it leaves out): thousands of DOM rows slow every redraw. */
const LOG_LIMIT = 500;

export function renderEvents(box: HTMLElement, view: ScenarioView): void {
  const active = document.activeElement as HTMLElement | null;
  const focused = active && box.contains(active) ? active.dataset.event : undefined;
  box.replaceChildren(
    ...eventOptions(view.snapshot).map((o) => {
      const why = o.accepted ? (o.next === view.state ? 'counts only' : `→ ${o.next}`) : `rejected: ${o.reason}`;
      const b = el('button', { type: 'button', 'data-event': o.event }, el('span', {}, o.event), el('span', { class: 'why' }, why));
      if (!o.accepted) {
        b.setAttribute('aria-disabled', 'true');
        b.setAttribute('data-reason', o.anomaly ?? 'rejected');
        b.title = `${o.event} would be rejected: ${o.reason}`;
      }
      return b;
    }),
  );
  // Keep keyboard focus on the same event button across re-renders.
  if (focused) box.querySelector<HTMLElement>(`button[data-event="${CSS.escape(focused)}"]`)?.focus();
}

/** The step log; `flag` marks a step the server judged wrong (a traffic non-conformance row's), with its words. */
export function renderLog(log: HTMLElement, view: ScenarioView, flag?: { step: number; text: string }): void {
  const shown = view.steps.slice(-LOG_LIMIT);
  const items = shown.map((s) => {
    const head = `${s.event}: ${s.from} → ${s.state}`;
    const li = el('li', { 'data-testid': 'log-entry', 'data-step': String(s.n), 'data-accepted': String(s.accepted), value: String(s.n) }, el('span', {}, head));
    if (s.report) li.append(reportCode(s.report));
    else li.append(el('span', { 'data-testid': 'rejection', class: 'why' }, ` rejected: ${rejectionReason(s.event, s.counters)}; no report`));
    if (s.mismatches.length > 0) {
      li.setAttribute('data-mismatch', 'true');
      for (const m of s.mismatches) li.append(el('div', { 'data-testid': 'mismatch', class: 'mismatch' }, `Disagrees with the model: ${m}`));
    }
    if (flag?.step === s.n) {
      li.setAttribute('data-flagged', 'true');
      li.append(el('div', { 'data-testid': 'flagged-step', class: 'mismatch' }, flag.text));
    }
    return li;
  });
  log.replaceChildren(...items);
  const empty = document.getElementById('log-empty');
  if (empty) empty.hidden = view.steps.length > 0;
  if (view.steps.length > shown.length) log.prepend(el('li', { class: 'why', 'data-testid': 'log-truncated' }, `(${view.steps.length - shown.length} earlier steps not shown)`));
  // The newest step in view, without scrolling the page; after layout, so a redraw never forces one.
  if (view.steps.length > 0) requestAnimationFrame(() => (log.scrollTop = log.scrollHeight));
}

/** A report body as one line of JSON that wraps after its commas, not mid-word (`<wbr>` is not copied with the text). */
function reportCode(report: object): HTMLElement {
  const parts = JSON.stringify(report).split(',');
  const code = el('code', { 'data-testid': 'report' });
  parts.forEach((p, i) => code.append(i < parts.length - 1 ? `${p},` : p, ...(i < parts.length - 1 ? [document.createElement('wbr')] : [])));
  return code;
}

export function renderSessionList(list: HTMLElement, sessions: ReadonlyMap<string, LiveSession>, following: string | undefined): void {
  list.replaceChildren(
    ...[...sessions.values()].map((s) => {
      const on = following === s.session;
      const b = el('button', { type: 'button', 'data-follow': s.session, 'aria-pressed': String(on) }, on ? 'Following' : 'Follow');
      return el(
        'li',
        { 'data-session': s.session, 'data-following': String(on) },
        `${s.label} · ${s.steps.length} steps · ${s.stopped ? 'ended' : 'live'}${s.overflow ? ' · too many steps' : ''} `,
        b,
      );
    }),
  );
}

export function renderSideTable(body: HTMLElement): void {
  body.replaceChildren(
    ...sideTableRows().map((r) => el('tr', { 'data-kind': r.kind }, el('td', {}, r.event), el('td', {}, r.guard), el('td', {}, r.outcome), el('td', {}, r.states))),
  );
}

export function stepAnnouncement(view: ScenarioView): string {
  const s = view.steps[view.steps.length - 1];
  const counters = ROOM_COUNTERS.map((c) => `${c} ${view.counters[c]}`).join(', ');
  if (!s) return `Reset: ${view.state}, ${counters}`;
  return `Step ${s.n}: ${s.event} ${s.accepted ? 'accepted' : 'rejected'}; now ${view.state}; ${counters}`;
}

