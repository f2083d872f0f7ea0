// Traffic's comparison of two windows on the page: the controls (a preset, or two chosen ranges), reading both
// windows from the server (again whenever the stream says the figures changed, while the later window ends now), the
// comparison's own legend, and the table of changes. What changed is worked out in ../trafficCompare.ts.
import { COMPARE_LABEL, CHANGE_SIGN, CHANGE_WORDS, compareRanges, countedRange, percentText, validRange, type Change, type Comparison, type LineChange, type TimeRange } from '../trafficCompare';
import type { TrafficSnapshot } from '../trafficWire';
import { EDGES, GROUPS } from './diagram';
import { $, announce, breakable, el } from './dom';
import { fetchSnapshot, type TrafficSource } from './trafficStream';

export interface CompareHooks {
  source(): TrafficSource | undefined;
  /** Now, in epoch ms: the server's time of its last figures, so both ends agree on what "yesterday" is. */
  now(): number;
  /** Ask the page to compare (or stop): it calls `set` back from its state. */
  ask(c: Comparison | undefined): void;
  /** Both windows' figures arrived, or the comparison stopped. */
  onFigures(): void;
}

export interface ComparedFigures {
  before: TrafficSnapshot;
  after: TrafficSnapshot;
  /** What is compared, in words. */
  words: string;
}

export interface CompareControl {
  /** The page's comparison (from its state); reads both windows when it changes. */
  set(c: Comparison | undefined): void;
  /** The stream's figures changed: a comparison whose windows reach now reads them again. */
  changed(): void;
  figures(): ComparedFigures | undefined;
  renderChanges(changes: ReadonlyMap<string, LineChange> | undefined): void;
}

const SHOWN: readonly Change[] = ['up', 'new', 'down', 'gone', 'same'];
const PATTERN: Record<Change, string> = { up: 'solid', new: 'solid, thick', down: 'dashed', gone: 'dotted', same: 'thin grey', unused: '' };

/** "Dec 2, 10:05 – 11:05" in the reader's locale (the day said once when both ends are on it). */
function span(r: TimeRange): string {
  const [a, b] = [new Date(r.since), new Date(r.until)];
  const time = (d: Date) => d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const day = (d: Date) => d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  return `${day(a)}, ${time(a)} – ${day(a) === day(b) ? '' : `${day(b)}, `}${time(b)}`;
}

/** An ISO time as a datetime-local input's value (local time, minutes). */
function localInput(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
/** A datetime-local value (local time) as ISO; '' when empty or not a time. */
function isoOf(value: string): string {
  const t = new Date(value).getTime();
  return value && Number.isFinite(t) ? new Date(t).toISOString() : '';
}

/** A drawn line's name for the table: "waiting → starting (connectionCreated)", the frame's "in a call → waiting (…)". */
function lineName(id: string): string {
  const e = EDGES.get(id);
  const short = (event?: string) => (event ? event.slice(event.indexOf('.') + 1) : 'eventless');
  if (e) return `${e.from} → ${e.to} (${short(e.event)})`;
  const g = GROUPS.get(id);
  return g ? `in a call → ${g.to} (${short(g.event)})` : id;
}

export function mountCompare(windowRow: HTMLElement, trafficLegend: HTMLElement, hooks: CompareHooks): CompareControl {
  const select = el('select', { id: 'traffic-compare', 'data-testid': 'traffic-compare' }, el('option', { value: '' }, 'off'), ...(['hour', 'day', 'ranges'] as const).map((p) => el('option', { value: p }, COMPARE_LABEL[p])));
  const field = (id: string, text: string) => el('span', { class: 'field' }, el('label', { for: id }, text), el('input', { id, 'data-testid': id, type: 'datetime-local', required: '' }));
  const form = el(
    'form',
    { id: 'compare-ranges', 'data-testid': 'compare-ranges', class: 'compare-ranges', hidden: '' },
    el('fieldset', {}, el('legend', {}, 'Before'), field('compare-before-since', 'from'), field('compare-before-until', 'to')),
    el('fieldset', {}, el('legend', {}, 'After'), field('compare-after-since', 'from'), field('compare-after-until', 'to')),
    el('button', { type: 'submit', 'data-testid': 'compare-go' }, 'Compare these ranges'),
    el('p', { class: 'error', id: 'compare-error', 'data-testid': 'compare-error' }),
  );
  const status = el('p', { id: 'compare-status', 'data-testid': 'compare-status', role: 'status', class: 'why' });
  windowRow.after(el('p', { class: 'row' }, el('label', { for: 'traffic-compare' }, 'Compare'), select), form, status);
  const body = el('tbody', { id: 'compare-body' });
  // Folded: the chart carries the numbers; the table lists them all, biggest change first.
  const summary = el('summary', { id: 'compare-title' }, 'Changes, largest first');
  const changes = el(
    'details',
    { id: 'compare-changes', class: 'compare-changes', hidden: '' },
    summary,
    el(
      'div',
      { class: 'scroll' },
      el('table', { 'data-testid': 'compare-table', 'aria-labelledby': 'compare-title' }, el('thead', {}, el('tr', {}, ...['transition', 'before → after', 'change'].map((h) => el('th', { scope: 'col' }, h)))), body),
    ),
  );
  $('#traffic-totals').after(changes);
  // The comparison's legend, in place of traffic's while there are two windows to show (style: trafficStyle.ts).
  const legend = el(
    'ul',
    { class: 'legend key', id: 'compare-legend', 'data-testid': 'compare-legend', 'aria-label': 'Comparison legend', hidden: '' },
    el('li', {}, 'on a line: before→after'),
    ...SHOWN.map((c) => el('li', { 'data-change': c }, el('span', { class: `swatch compare-${c}`, 'aria-hidden': 'true' }), `${CHANGE_SIGN[c]} ${PATTERN[c]}: ${CHANGE_WORDS[c]}`)),
    el('li', {}, 'thickness: the larger of the two counts (log scale)'),
  );
  trafficLegend.after(legend);

  const c = {
    want: undefined as Comparison | undefined,
    key: '',
    figures: undefined as ComparedFigures | undefined,
    /** When the windows were last read (epoch ms, the server's time), and the ranges read. */
    readAt: 0,
    ranges: undefined as { before: TimeRange; after: TimeRange } | undefined,
    seq: 0,
    busy: false,
    again: false,
  };

  /** Read both windows; one read at a time (a request meanwhile reads again after it), a stale answer dropped. */
  async function read(): Promise<void> {
    const src = hooks.source();
    const want = c.want;
    if (!want) return;
    if (!src) {
      status.textContent = 'Connect to a room server to compare its windows.';
      return;
    }
    if (c.busy) {
      c.again = true;
      return;
    }
    c.busy = true;
    const seq = c.seq;
    const now = hooks.now();
    const ranges = compareRanges(want, now);
    if (!c.figures) status.textContent = `Reading ${span(ranges.before)} and ${span(ranges.after)}…`;
    try {
      const [before, after] = await Promise.all([fetchSnapshot(src, ranges.before), fetchSnapshot(src, ranges.after)]);
      if (seq === c.seq) {
        // What the server counted: an end older than the minutes it keeps is counted to its hour.
        const [b, a] = [countedRange(ranges.before, before), countedRange(ranges.after, after)];
        const hours = b.byHour || a.byHour ? ' (by whole hours: the server keeps older minutes only by the hour)' : '';
        const words = `Comparing ${span(b)} (${before.sessions.started} sessions started) with ${span(a)} (${after.sessions.started} started)${hours}`;
        if (!c.figures) announce(`${words}: lines coloured by their change`);
        Object.assign(c, { figures: { before, after, words }, readAt: now, ranges });
        status.textContent = `${words}.`;
      }
    } catch (err) {
      if (seq === c.seq) {
        c.figures = undefined;
        status.textContent = `Could not compare: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    c.busy = false;
    if (seq === c.seq) hooks.onFigures();
    if (c.again) {
      c.again = false;
      void read();
    }
  }

  select.addEventListener('change', () => {
    const v = select.value;
    form.hidden = v !== 'ranges';
    if (v === 'hour' || v === 'day') return hooks.ask({ preset: v });
    if (v === '') return hooks.ask(undefined);
    // Two chosen ranges: start from this hour and the same hour yesterday, to edit.
    const inputs = Array.from(form.querySelectorAll('input'));
    if (inputs.every((i) => i.value === '')) {
      const r = compareRanges({ preset: 'hour' }, hooks.now());
      [r.before.since, r.before.until, r.after.since, r.after.until].forEach((iso, i) => (inputs[i].value = localInput(iso)));
    }
    inputs[0].focus();
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const [bs, bu, as, au] = Array.from(form.querySelectorAll('input'), (i) => isoOf(i.value));
    const ranges = { before: { since: bs, until: bu }, after: { since: as, until: au } };
    const error = $('#compare-error');
    if (!validRange(ranges.before) || !validRange(ranges.after)) {
      error.textContent = 'Each range needs a start and an end after it.';
      return;
    }
    error.textContent = '';
    hooks.ask({ preset: 'ranges', ...ranges });
  });

  return {
    set(want) {
      const key = JSON.stringify(want ?? null);
      if (key === c.key) return;
      Object.assign(c, { want, key, figures: undefined, seq: c.seq + 1 });
      select.value = want?.preset ?? '';
      form.hidden = want?.preset !== 'ranges';
      if (want?.preset === 'ranges') {
        const inputs = Array.from(form.querySelectorAll('input'));
        [want.before.since, want.before.until, want.after.since, want.after.until].forEach((iso, i) => (inputs[i].value = localInput(iso)));
      }
      // The time window is the stream's; while comparing, the two windows are what is shown.
      $<HTMLSelectElement>('#traffic-window').disabled = want !== undefined;
      status.textContent = '';
      if (want) void read();
      else hooks.onFigures();
    },
    changed() {
      if (!c.want) return;
      // Read again when never read, or when a window reaches past the last read (a preset always does: it ends now).
      const open = !c.ranges || c.want.preset !== 'ranges' || [c.ranges.before.until, c.ranges.after.until].some((u) => Date.parse(u) > c.readAt);
      if (!c.figures || open) void read();
    },
    figures: () => c.figures,
    renderChanges(lines) {
      changes.hidden = lines === undefined;
      if (!lines) return;
      const rows = [...lines].filter(([, x]) => x.change !== 'unused').sort(([a, x], [b, y]) => Math.abs(y.after - y.before) - Math.abs(x.after - x.before) || a.localeCompare(b));
      summary.textContent = `Changes, largest first (${rows.length} transition${rows.length === 1 ? '' : 's'})`;
      body.replaceChildren(
        ...(rows.length === 0
          ? [el('tr', {}, el('td', { colspan: '3', class: 'why' }, 'No transition in either window.'))]
          : rows.map(([id, x]) =>
              el(
                'tr',
                { 'data-line': id, 'data-change': x.change, 'data-before': String(x.before), 'data-after': String(x.after) },
                el('th', { scope: 'row' }, ...breakable(lineName(id))),
                el('td', { class: 'num' }, `${x.before} → ${x.after}`),
                el('td', {}, `${CHANGE_SIGN[x.change]} ${x.change === 'new' || x.change === 'gone' || x.change === 'same' ? x.change : percentText(x)}`),
              ),
            )),
      );
    },
  };
}
