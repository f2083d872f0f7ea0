// Traffic mode: what real sessions did, drawn on the statechart (counts on edges, open and reached counts on states)
// with the funnel, ended sessions, time to media and non-conformance beside it, live from the room server.
// Served by `serve` it connects to its own origin; opened from disk it asks for the server's address and admin token.
import type { RoomState } from '../../../machines/domain';
import { edgeWidth, enteredStep, flaggedStep, NC_SHOWN, replayText, seconds, trafficView, type TrafficView } from '../traffic';
import { changeLabel, changeText, compareCounts, type LineChange } from '../trafficCompare';
import { DRAWN_AS, stateName } from './diagram';
import { TRAFFIC_WINDOWS, WINDOW_LABEL, type SessionReport, type TrafficSnapshot, type TrafficWindow } from '../trafficWire';
import { $, announce, breakable, el, reveal } from './dom';
import type { PageState } from './state';
import { renderBreakdown } from './trafficBreakdown';
import { mountCompare, type CompareControl } from './trafficCompareView';
import { placeCounts, textBlocks, type Box, type CountLabel } from './trafficLabels';
import { mountPaths, type PathsPanel } from './trafficPaths';
import { TRAFFIC_CSS } from './trafficStyle';
import { fetchSessionReports, openTrafficStream, type LinkState, type TrafficSource } from './trafficStream';

export interface TrafficHooks {
  /** The diagram's SVG once drawn. */
  svg(): SVGSVGElement | undefined;
  /** Ask the page to enter or leave traffic mode (it calls `show` back when it draws). */
  setMode(on: boolean): void;
  /** The page's replay: a session's reports, at step `at`, with the server's verdict flagged on it. */
  replay(name: string, text: string, at?: number, flag?: { step: number; text: string }): Promise<boolean>;
  /** Ask the page to compare two windows (or stop): its state holds the comparison, and `show` gets it back. */
  compare(c: PageState['compare']): void;
}

/** What the page calls: traffic mode is one of its modes, entered and left through its state. */
export interface TrafficMode {
  /**
   * Draw the page's state: the mode on (counts on the diagram, the panel) or off, the comparison, the chosen state's
   * breakdown or edge's counts. Idempotent, called on every page render.
   */
  show(s: PageState): void;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

const t = {
  on: false,
  source: undefined as TrafficSource | undefined,
  window: 'all' as TrafficWindow,
  stream: undefined as { close(): void } | undefined,
  /** The stream's latest figures. */
  snapshot: undefined as TrafficSnapshot | undefined,
  /** What the panel and the diagram show: the stream's figures, or while comparing the later window's. */
  view: undefined as TrafficView | undefined,
  /** While comparing: each drawn line's change from the earlier window to the later. */
  changes: undefined as Map<string, LineChange> | undefined,
  /** The chosen state or edge (the page's state), its breakdown shown in the panel. */
  picked: undefined as PageState['details'],
  compare: undefined as CompareControl | undefined,
  paths: undefined as PathsPanel | undefined,
  /** Every non-conformance group listed, not only the NC_SHOWN largest (a very broken client makes hundreds). */
  allGroups: false,
};

export function mountTraffic(hooks: TrafficHooks): TrafficMode {
  const button = el('button', { type: 'button', 'data-testid': 'mode-traffic', 'aria-pressed': 'false', id: 'mode-traffic' }, 'Traffic');
  button.title = 'Show what real sessions did on the statechart (needs the room server)';
  $('header .mode').after(el('p', { class: 'toolbar traffic-switch' }, button));
  button.addEventListener('click', () => {
    hooks.setMode(!t.on);
    announce(t.on ? 'Traffic mode: counts of real sessions on the statechart' : 'Left traffic mode');
  });
  // The panel, legends, controls and their CSS are made when the mode is first entered: the first draw does not wait for them.
  let built = false;
  return {
    show: (s) => {
      if (s.mode === 'traffic') {
        if (!built) build(hooks);
        built = true;
        enter(hooks);
      } else leave();
      if (!built) return;
      const svg = hooks.svg();
      if (t.on && svg) names(svg);
      t.compare?.set(s.compare);
      if (JSON.stringify(s.details) !== JSON.stringify(t.picked)) {
        t.picked = s.details;
        if (t.on) announce(pickedWords());
      }
    },
  };
}

/** The mode's panel (beside the chart), its legend (under it), the comparison's controls and the top paths, wired. */
function build(hooks: TrafficHooks): void {
  const style = document.createElement('style');
  style.textContent = TRAFFIC_CSS;
  document.head.append(style);
  $('aside.side').prepend(buildPanel());
  // Traffic's own legend, in place of Explore's while the mode is on (style: trafficStyle.ts).
  $('.key').after(el('ul', { class: 'legend key', id: 'traffic-legend', 'data-testid': 'traffic-legend', 'aria-label': 'Traffic legend', hidden: '' }));
  const replay = (session: string, stepOf: (reports: SessionReport[]) => number) => replaySession(hooks, session, stepOf);
  t.compare = mountCompare($('#traffic-window-row'), $('#traffic-legend'), {
    source: () => t.source,
    now: () => (t.snapshot ? Date.parse(t.snapshot.at) : Date.now()),
    ask: hooks.compare,
    onFigures: () => {
      refresh();
      if (t.on) paint(hooks);
    },
  });
  t.paths = mountPaths($('#traffic-paths-box'), { svg: hooks.svg, replay: (session) => replay(session, () => 0) });
  $('#traffic-picked').addEventListener('click', (ev) => {
    const b = (ev.target as Element).closest<HTMLButtonElement>('button[data-session]');
    const state = b?.dataset.state as RoomState | undefined;
    if (b && state) void replay(b.dataset.session as string, (reports) => enteredStep(reports, state));
  });
  $<HTMLSelectElement>('#traffic-window').addEventListener('change', (ev) => {
    t.window = (ev.target as HTMLSelectElement).value as TrafficWindow;
    if (t.source) connect(hooks, t.source);
  });
  $('#traffic-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const url = $<HTMLInputElement>('#traffic-url').value.trim();
    const token = $<HTMLInputElement>('#traffic-token').value;
    let base: string;
    try {
      base = apiBase(url);
    } catch (err) {
      // Not an address: no stream runs on (one to the address before would go on saying its own state).
      t.stream?.close();
      t.stream = undefined;
      t.source = undefined;
      linkState('refused', err instanceof Error ? err.message : String(err));
      return;
    }
    if (fromDisk()) return pointToServedPage(base);
    connect(hooks, { base, ...(token ? { token } : {}) });
  });
  $('#nonconformance-body').addEventListener('click', (ev) => {
    const more = (ev.target as Element).closest<HTMLButtonElement>('[data-testid="nonconformance-more"]');
    if (more) {
      t.allGroups = !t.allGroups;
      if (t.view) render(t.view);
      $<HTMLButtonElement>('[data-testid="nonconformance-more"]').focus();
      announce(t.allGroups ? 'Listing every non-conformance group' : `Listing the ${NC_SHOWN} largest non-conformance groups`);
      return;
    }
    const row = (ev.target as Element).closest<HTMLTableRowElement>('tr[data-session]');
    if (row) void drillDown(hooks, row);
  });
}

/** The chosen state's breakdown, or the chosen edge's counts, in the panel; returns the words to announce. */
function pickedWords(): string {
  const box = $('#traffic-picked');
  const v = t.view;
  const p = t.picked;
  if (!v || !p) {
    box.replaceChildren();
    return '';
  }
  if (p.kind === 'state') return renderBreakdown(box, v, p.id as RoomState, t.changes ? 'the later window' : t.window === 'all' ? 'all time' : `the ${WINDOW_LABEL[t.window]}`);
  const g = document.querySelector(`#diagram g#${CSS.escape(DRAWN_AS.get(p.id) ?? p.id)}[data-edge]`);
  const words = g?.getAttribute('aria-label') ?? '';
  box.replaceChildren(el('p', { class: 'why' }, words));
  return words;
}

function buildPanel(): HTMLElement {
  const windows = el('select', { id: 'traffic-window', 'data-testid': 'traffic-window' }, ...TRAFFIC_WINDOWS.map((w) => el('option', { value: w }, WINDOW_LABEL[w])));
  (windows as HTMLSelectElement).value = t.window;
  return el(
    'section',
    { class: 'traffic', id: 'traffic', 'data-testid': 'traffic', 'aria-labelledby': 'traffic-title', hidden: '' },
    el('h2', { id: 'traffic-title' }, 'Traffic'),
    el('p', { class: 'row' }, el('span', { 'data-testid': 'traffic-live', id: 'traffic-live', 'data-live': 'false', role: 'status' }, 'not connected')),
    el('p', { class: 'why', id: 'traffic-detail', 'data-testid': 'traffic-detail' }),
    el(
      'form',
      // The page says what is wrong with an address itself (the browser's own check would stop it unsaid).
      { id: 'traffic-form', 'data-testid': 'traffic-connect', class: 'traffic-form', hidden: '', novalidate: '' },
      el('label', { for: 'traffic-url' }, 'Room server'),
      el('input', { id: 'traffic-url', 'data-testid': 'traffic-url', type: 'url', placeholder: 'http://127.0.0.1:5000/v1', autocomplete: 'url' }),
      el(
        'span',
        { id: 'traffic-token-field', class: 'field' },
        el('label', { for: 'traffic-token' }, 'Admin token (if the server has one)'),
        el('input', { id: 'traffic-token', 'data-testid': 'traffic-token', type: 'password', autocomplete: 'off' }),
      ),
      el('button', { type: 'submit', 'data-testid': 'traffic-go' }, 'Connect'),
    ),
    el('p', { class: 'row', id: 'traffic-window-row' }, el('label', { for: 'traffic-window' }, 'Time window'), windows),
    el('p', { 'data-testid': 'traffic-totals', id: 'traffic-totals' }),
    el('div', { id: 'traffic-picked', 'data-testid': 'traffic-breakdown' }),
    el('div', { id: 'traffic-paths-box' }),
    el('h3', { id: 'funnel-title' }, 'Funnel: sessions that reached each state'),
    el('p', { class: 'why' }, 'The main path first, each step a share of the one before; then the states beside it.'),
    table('funnel', 'funnel-title', ['state', 'sessions', 'of started', 'of the step before']),
    el('h3', { id: 'ended-title' }, 'Where sessions ended'),
    table('traffic-ended', 'ended-title', ['state', 'reason', 'sessions']),
    el('h3', { id: 'ttm-title' }, 'Time to media (join to first sendrecv)'),
    el('p', { 'data-testid': 'time-to-media', id: 'time-to-media' }),
    el('ol', { class: 'histogram', id: 'ttm-histogram', 'data-testid': 'ttm-histogram', 'aria-labelledby': 'ttm-title' }),
    el('h3', { id: 'nc-title' }, 'Non-conformance'),
    el('p', { class: 'why' }, 'Choose a row to replay its example session; the wrong step is flagged.'),
    // Four columns (the count under the verdict): the table fits the 21rem panel breaking no word inside itself.
    table('nonconformance', 'nc-title', ['server verdict (replay it), reports', 'state before, event', 'the model expects', 'the client reported']),
    el('p', { class: 'why', id: 'traffic-offdiagram', 'data-testid': 'traffic-offdiagram' }),
    el('p', { id: 'traffic-drilldown', 'data-testid': 'traffic-drilldown', role: 'status' }),
  );
}

function table(testid: string, labelledby: string, heads: string[]): HTMLElement {
  const bodyId = `${testid}-body`;
  return el(
    'div',
    { class: 'scroll' },
    el(
      'table',
      { 'data-testid': testid, 'aria-labelledby': labelledby },
      el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', { id: bodyId }),
    ),
  );
}

/** The API's base from what the user typed: the server's origin or its /v1 address. */
export function apiBase(input: string): string {
  if (input === '') throw new Error(`give the room server's address, such as ${EXAMPLE_ADDRESS}`);
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw new Error(`"${input}" is not an address: give one such as ${EXAMPLE_ADDRESS}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('the room server address must start with http:// or https://');
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.origin}${path === '' ? '/v1' : path}`;
}

function enter(hooks: TrafficHooks): void {
  if (t.on) return;
  t.on = true;
  document.body.setAttribute('data-traffic', 'true');
  $('#mode-traffic').setAttribute('aria-pressed', 'true');
  $('#traffic').hidden = false;
  legends();
  if (t.view) paint(hooks);
  t.compare?.changed(); // figures that moved on while the mode was off
  if (!t.source) {
    // Served by `serve`: its own origin, no configuration. From disk: ask.
    if (!fromDisk()) connect(hooks, { base: `${location.origin}/v1` });
    else {
      // A room server never lets a page from disk read it (its Origin is null): the form leads to the server's own page.
      $('#traffic-form').hidden = false;
      $('#traffic-token-field').hidden = true;
      $('[data-testid="traffic-go"]').textContent = 'Find its page';
      linkState('closed', `${FROM_DISK} Give the room server's address to get a link to the page it serves.`);
      $('#traffic-url').focus();
    }
  }
}

const EXAMPLE_ADDRESS = 'http://127.0.0.1:5000/v1';
const FROM_DISK = 'A page opened from disk cannot read a room server: the server never lets a page from disk (Origin null) read it.';

/** Opened from a file: no room server lets the page read it. */
const fromDisk = () => location.protocol !== 'http:' && location.protocol !== 'https:';

/** From disk: the link to the page the server at `base` serves (at its root), where Traffic reads it. */
function pointToServedPage(base: string): void {
  const page = `${new URL(base).origin}/`;
  linkState('closed', '');
  $('#traffic-detail').replaceChildren(`${FROM_DISK} Open the page it serves, where Traffic works: `, el('a', { href: page, 'data-testid': 'traffic-served-page' }, page));
  announce(`Opened from disk, this page cannot read the server; its own page is ${page}`);
}

function leave(): void {
  if (!t.on) return;
  t.on = false;
  document.body.removeAttribute('data-traffic');
  $('#mode-traffic').setAttribute('aria-pressed', 'false');
  legends();
  t.paths?.clear();
  unpaint();
}

function connect(hooks: TrafficHooks, source: TrafficSource): void {
  t.stream?.close();
  t.source = source;
  $<HTMLInputElement>('#traffic-url').value = source.base;
  t.stream = openTrafficStream(source, t.window, {
    onState: (state, detail) => {
      linkState(state, detail);
      if (state === 'refused') $('#traffic-form').hidden = false;
    },
    onSnapshot: (s) => {
      t.snapshot = s;
      // A comparison whose later window ends now reads its windows again (it calls onFigures when they arrive).
      if (t.on) t.compare?.changed();
      refresh();
      if (t.on) paint(hooks);
    },
  });
}

function linkState(state: LinkState, detail: string): void {
  const live = $('#traffic-live');
  live.dataset.live = String(state === 'live');
  live.dataset.state = state;
  live.textContent = state === 'live' ? 'live' : state === 'reconnecting' ? 'reconnecting…' : state === 'connecting' ? 'connecting…' : 'not connected';
  $('#traffic-detail').textContent = detail;
}

/** Drawn line id -> transitions along it (a line drawn for several edges, the frame's, carries their sum). */
function lineCounts(v: TrafficView): Map<string, number> {
  const lines = new Map<string, number>();
  for (const e of v.edges) {
    const id = DRAWN_AS.get(e.id) ?? e.id;
    lines.set(id, (lines.get(id) ?? 0) + e.count);
  }
  return lines;
}

/**
 * What is shown: the stream's figures, or, once a comparison has read its two windows, the later window's, with each
 * line's change from the earlier one. The panel is drawn from it; the diagram by `paint`.
 */
function refresh(): void {
  const pair = t.compare?.figures();
  const shown = pair?.after ?? t.snapshot;
  if (!shown) return;
  t.view = trafficView(shown);
  t.changes = pair ? compareCounts(lineCounts(trafficView(pair.before)), lineCounts(t.view)) : undefined;
  const v = t.view;
  $('#traffic-totals').textContent = `${pair ? 'The later window (the figures below)' : WINDOW_LABEL[t.window]}: ${v.sessions.started} sessions started, ${v.sessions.ended} ended; ${v.sessions.open} open now`;
  t.compare?.renderChanges(t.changes);
  t.paths?.render(v);
  pickedWords();
  render(v);
}

function render(v: TrafficView): void {
  $('#funnel-body').replaceChildren(
    ...v.funnel.map((f) =>
      el(
        'tr',
        { 'data-funnel-state': f.state, 'data-count': String(f.count), 'data-main': String(f.main) },
        el('th', { scope: 'row' }, f.main ? f.state : `(beside) ${f.state}`),
        el('td', { class: 'num' }, String(f.count)),
        el('td', {}, bar(f.share ?? 0), f.share === null ? '–' : `${Math.round(f.share * 100)} %`),
        el('td', { class: 'num' }, f.ofPrevious === null ? '' : `${Math.round(f.ofPrevious * 100)} %`),
      ),
    ),
  );
  $('#traffic-ended-body').replaceChildren(
    ...(v.ended.length === 0
      ? [el('tr', {}, el('td', { colspan: '3', class: 'why' }, 'No session ended in this window.'))]
      : v.ended.map((e) =>
          el('tr', { 'data-state': e.state, 'data-reason': e.reason, 'data-count': String(e.count) }, el('td', {}, e.state), el('td', {}, e.reason), el('td', { class: 'num' }, String(e.count))),
        )),
  );
  const m = v.timeToMedia;
  const ttm = $('#time-to-media');
  ttm.textContent = m.count === 0 ? 'No session reached sendrecv in this window.' : `p50 ${seconds(m.p50)} · p90 ${seconds(m.p90)} · p99 ${seconds(m.p99)} (${m.count} sessions)`;
  ttm.dataset.count = String(m.count);
  const most = Math.max(1, ...m.histogram.map((b) => b.count));
  $('#ttm-histogram').replaceChildren(
    ...m.histogram.map((b, i) => {
      const lo = i === 0 ? 0 : m.histogram[i - 1].le;
      const label = b.le === null ? `over ${lo} s` : `${lo}–${b.le} s`;
      return el('li', { 'data-le': b.le === null ? 'inf' : String(b.le), 'data-count': String(b.count) }, el('span', { class: 'label' }, label), bar(b.count / most), el('span', { class: 'num' }, String(b.count)));
    }),
  );
  const groups = v.nonConformance;
  const listed = t.allGroups ? groups : groups.slice(0, NC_SHOWN);
  const more =
    groups.length > NC_SHOWN
      ? [
          el(
            'tr',
            { class: 'more' },
            el(
              'td',
              { colspan: '4' },
              el(
                'button',
                { type: 'button', 'data-testid': 'nonconformance-more', 'aria-expanded': String(t.allGroups) },
                t.allGroups ? `Show the ${NC_SHOWN} largest` : `Show all ${groups.length} groups (${groups.length - NC_SHOWN} more)`,
              ),
            ),
          ),
        ]
      : [];
  $('#nonconformance-body').replaceChildren(
    ...(groups.length === 0
      ? [el('tr', {}, el('td', { colspan: '4', class: 'why' }, 'Every report in this window was conformant.'))]
      : listed.map((n) =>
          el(
            'tr',
            { 'data-verdict': n.verdict, 'data-count': String(n.count), 'data-session': n.exampleSession, 'data-key': n.key },
            el(
              'td',
              {},
              el('button', { type: 'button', 'data-testid': 'nonconformance-replay', title: `Replay example session ${n.exampleSession}` }, ...breakable(n.verdict)),
              el('span', { class: 'count', 'data-testid': 'nc-count' }, `${n.count} ${n.count === 1 ? 'report' : 'reports'}`),
            ),
            el('td', {}, ...breakable(`${n.from}, ${n.event}`)),
            el('td', { 'data-testid': 'nc-expected' }, ...breakable(n.expectedText)),
            el('td', { 'data-testid': 'nc-reported' }, ...breakable(n.reportedText)),
          ),
        )),
    ...more,
  );
  const off = v.offDiagram.reduce((a, x) => a + x.count, 0);
  $('#traffic-offdiagram').textContent = `${v.counterOnly} counter-only steps (not drawn)${off > 0 ? `; ${off} reported transitions no machine path explains (not drawn: see non-conformance)` : ''}.`;
}

function bar(share: number): HTMLElement {
  const b = el('span', { class: 'bar', 'aria-hidden': 'true' });
  b.style.width = `${Math.max(0, Math.min(1, share)) * 4}rem`;
  return b;
}

/**
 * Put the counts on the diagram: every line's data-count, width and label (`×N`; comparing, its change "▲ 4→7",
 * coloured and patterned by it); every state's open and reached counts.
 */
function paint(hooks: TrafficHooks): void {
  const svg = hooks.svg();
  const v = t.view;
  if (!svg || !v) return;
  const changes = t.changes;
  const counts: CountLabel[] = [];
  const lines = lineCounts(v);
  // Comparing, a line is as thick as the larger of its two counts: a line gone is still drawn.
  const most = (id: string, n: number) => Math.max(n, changes?.get(id)?.before ?? 0);
  const max = Math.max(0, ...[...lines].map(([id, n]) => most(id, n)));
  document.body.toggleAttribute('data-compare', changes !== undefined);
  for (const [id, count] of lines) {
    const g = svg.querySelector<SVGGElement>(`g#${CSS.escape(id)}[data-edge]`);
    if (!g) continue;
    const c = changes?.get(id);
    g.setAttribute('data-count', String(count));
    for (const [k, x] of Object.entries({ 'data-change': c?.change, 'data-before': c?.before })) {
      if (x === undefined) g.removeAttribute(k);
      else g.setAttribute(k, String(x));
    }
    g.style.setProperty('--traffic-w', `${edgeWidth(most(id, count), max)}px`);
    const text = c ? changeLabel(c) : `×${count}`;
    if (text) counts.push({ edge: g, text: label(g, 'traffic-count', text), backing: backingOf(g) });
    else dropLabel(g); // comparing: a line unused in both windows says nothing
  }
  for (const s of v.states) {
    const g = svg.querySelector<SVGGElement>(`g[data-state="${s.state}"]`);
    if (!g) continue;
    g.setAttribute('data-sessions', String(s.sessions));
    g.setAttribute('data-reached', String(s.reached));
    const node = label(g, 'traffic-state', `${s.sessions} open · ${s.reached} reached`);
    placeStateLabel(g, node);
    // On a backing too: where a line passes the spot, it goes under the figures.
    const b = node.getBBox();
    const back = backingOf(g);
    for (const [k, v] of Object.entries({ x: b.x - 2, y: b.y - 1, width: b.width + 4, height: b.height + 2 })) back.setAttribute(k, v.toFixed(1));
  }
  names(svg);
  renderLegend(max);
  legends();
  // The counts go where they touch nothing, now that every label (and every line's width) is known.
  const graph = svg.querySelector<SVGGElement>('g.traffic-labels')?.parentNode;
  if (graph instanceof SVGGElement) placeCounts(graph, counts);
  t.paths?.repaint();
}

/** An edge's accessible name without traffic's figures. */
const baseName = (g: Element) => (g.getAttribute('aria-label') ?? '').replace(/ · .*$/, '').replace(/, available now$/, '');

/**
 * The figures in every state's and line's accessible name ("… · 7 transitions", comparing "… · 4 → 7 (+75 %, …)
 * transitions"). Again on every page render: the page's highlighting rewrites the names.
 */
function names(svg: SVGSVGElement): void {
  for (const g of Array.from(svg.querySelectorAll<SVGGElement>('[data-edge][data-count]'))) {
    const c = t.changes?.get(g.id);
    const count = Number(g.dataset.count);
    g.setAttribute('aria-label', `${baseName(g)} · ${c ? `${changeText(c)} transitions` : `${count} transition${count === 1 ? '' : 's'}`}`);
  }
  for (const s of t.view?.states ?? []) svg.querySelector(`g[data-state="${s.state}"]`)?.setAttribute('aria-label', `${stateName(s.state)} · ${s.sessions} open now · ${s.reached} reached it`);
}

/** Room kept between a state's figures and any other text, in chart units (4 CSS px or more at the fit view). */
const STATE_LABEL_GAP = 8;

/**
 * A state's figures go under it, or above, right or left of it: the first spot that keeps STATE_LABEL_GAP from every
 * other text of the chart (edge labels come close to the states' bottoms).
 */
function placeStateLabel(g: SVGGElement, node: SVGTextElement): void {
  const box = (g.querySelector('path, polygon') as SVGGraphicsElement | null)?.getBBox();
  if (!box) return;
  const graph = g.parentNode as SVGGElement;
  // Counts are placed after the states' figures, clear of them.
  const others = textBlocks(graph, (t) => t === node || t.classList.contains('traffic-count'));
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const spots: Array<[string, number, number]> = [
    ['middle', cx, box.y + box.height + 18],
    ['middle', cx, box.y - 7],
    ['start', box.x + box.width + 6, cy + 5],
    ['end', box.x - 6, cy + 5],
    ['start', box.x, box.y + box.height + 18],
    ['end', box.x + box.width, box.y + box.height + 18],
    ['start', box.x, box.y - 7],
    ['end', box.x + box.width, box.y - 7],
    ['middle', cx, box.y + box.height + 36],
    ['start', box.x + box.width + 6, box.y + box.height + 18],
    ['end', box.x - 6, box.y + box.height + 18],
  ];
  const least = (b: Box) => Math.min(...others.map((o) => Math.max(o.x - b.x - b.width, b.x - o.x - o.width, o.y - b.y - b.height, b.y - o.y - o.height)));
  const put = ([anchor, x, y]: [string, number, number]) => {
    node.setAttribute('text-anchor', anchor);
    node.setAttribute('x', String(x));
    node.setAttribute('y', String(y));
  };
  // The first clear spot; where none is, the one farthest from its nearest text.
  let best: { spot: [string, number, number]; gap: number } | undefined;
  for (const spot of spots) {
    put(spot);
    const gap = least(node.getBBox());
    if (gap >= STATE_LABEL_GAP) return;
    if (!best || gap > best.gap) best = { spot, gap };
  }
  if (best) put(best.spot);
}

/** Traffic's legend while the mode is on, the comparison's instead while comparing. */
function legends(): void {
  const comparing = t.on && t.changes !== undefined;
  $('#traffic-legend').hidden = !t.on || comparing;
  $('#compare-legend').hidden = !comparing;
}

/** Traffic's legend: what the numbers on the chart are, and the thickness scale with its numbers (log scale). */
function renderLegend(max: number): void {
  const marks = [...new Set([0, 1, Math.round(Math.sqrt(Math.max(1, max))), max])].filter((n) => n <= max || n === 0);
  const line = (n: number) => {
    const sw = el('span', { class: 'swatch traffic-scale', 'aria-hidden': 'true' });
    sw.style.borderTopWidth = `${edgeWidth(n, max)}px`;
    return el('li', { 'data-count': String(n) }, sw, n === 0 ? 'unused' : `×${n}`);
  };
  $('#traffic-legend').replaceChildren(
    el('li', {}, '×N on a line: transitions taken in the window'),
    el('li', {}, '"N open · M reached" under a state: sessions in it now, sessions that ever reached it'),
    el('li', {}, 'line thickness (log scale):'),
    ...marks.map(line),
  );
}

/** The layer of added labels, beside the graph's elements: inside a focusable state or edge they would change its accessible name. */
function layerOf(g: SVGGElement): SVGGElement {
  const graph = g.parentNode as SVGGElement;
  let layer = graph.querySelector<SVGGElement>(':scope > g.traffic-labels');
  if (!layer) {
    layer = document.createElementNS(SVG_NS, 'g') as SVGGElement;
    layer.setAttribute('class', 'traffic-labels');
    layer.setAttribute('aria-hidden', 'true');
    graph.append(layer);
  }
  return layer;
}

/** Take an element's added text and backing away. */
function dropLabel(g: SVGGElement): void {
  for (const n of Array.from(layerOf(g).querySelectorAll(`[data-for="${CSS.escape(g.id)}"]`))) n.remove();
}

/** One added text per element (made once, updated after). */
function label(g: SVGGElement, cls: string, text: string): SVGTextElement {
  const layer = layerOf(g);
  let node = layer.querySelector<SVGTextElement>(`text[data-for="${CSS.escape(g.id)}"]`);
  if (!node) {
    node = document.createElementNS(SVG_NS, 'text') as SVGTextElement;
    node.setAttribute('class', cls);
    node.setAttribute('data-for', g.id);
    node.setAttribute('text-anchor', 'middle');
    layer.append(node);
  }
  node.textContent = text;
  return node;
}

/** The opaque box under an edge's count (drawn before it, over the lines). */
function backingOf(g: SVGGElement): SVGRectElement {
  const layer = layerOf(g);
  let rect = layer.querySelector<SVGRectElement>(`rect[data-for="${CSS.escape(g.id)}"]`);
  if (!rect) {
    rect = document.createElementNS(SVG_NS, 'rect') as SVGRectElement;
    rect.setAttribute('class', 'traffic-backing');
    rect.setAttribute('data-for', g.id);
    rect.setAttribute('rx', '3');
    rect.setAttribute('fill', '#ffffff'); // the exported file's; the page's is its background (light or dark)
    layer.prepend(rect);
  }
  return rect;
}

function unpaint(): void {
  const svg = document.querySelector('#diagram > svg');
  if (!svg) return;
  for (const n of Array.from(svg.querySelectorAll('g.traffic-labels'))) n.remove();
  document.body.removeAttribute('data-compare');
  for (const g of Array.from(svg.querySelectorAll<SVGGElement>('[data-count]'))) {
    for (const a of ['data-count', 'data-change', 'data-before']) g.removeAttribute(a);
    g.style.removeProperty('--traffic-w');
    g.setAttribute('aria-label', baseName(g));
  }
  for (const g of Array.from(svg.querySelectorAll<SVGGElement>('[data-sessions]'))) {
    g.removeAttribute('data-sessions');
    g.removeAttribute('data-reached');
    g.setAttribute('aria-label', stateName(g.getAttribute('data-state') as RoomState));
  }
}

/** A non-conformance row was chosen: replay its example session, at the step the row stands for, flagged. */
function drillDown(hooks: TrafficHooks, row: HTMLTableRowElement): Promise<void> {
  const n = t.view?.nonConformance.find((x) => x.key === row.dataset.key);
  if (!n) return Promise.resolve();
  return replaySession(hooks, n.exampleSession, (reports) => flaggedStep(reports, n) ?? 0, (step) => ({ step, text: `Server verdict ${n.verdict}: expected ${n.expectedText}, reported ${n.reportedText}` }));
}

/**
 * Replay one stored session in the page's replay (it leaves traffic mode), at the step `stepOf` finds in its
 * reports, optionally with that step flagged; says what it opened, or why it could not.
 */
async function replaySession(
  hooks: TrafficHooks,
  session: string,
  stepOf: (reports: SessionReport[]) => number,
  flagOf?: (step: number) => { step: number; text: string },
): Promise<void> {
  const src = t.source;
  if (!src) return;
  const out = $('#traffic-drilldown');
  let reports;
  try {
    reports = await fetchSessionReports(src, session);
  } catch (err) {
    out.textContent = `Could not load session ${session}: ${err instanceof Error ? err.message : String(err)}`;
    return;
  }
  const step = stepOf(reports.reports);
  const flag = step > 0 ? flagOf?.(step) : undefined;
  if (!(await hooks.replay(`session ${reports.session}`, replayText(reports.reports), step, flag))) return;
  out.textContent = `Replaying session ${reports.session} (${reports.reports.length} reports)${step ? ` at step ${step}${flag ? ', flagged' : ''}` : ''}.`;
  announce(out.textContent);
  // The replay is on the chart and its timeline, far above the row chosen: shown, the focus on its current step.
  reveal($('section.diagram'));
  $('[data-testid="timeline"] [aria-current="step"]').focus({ preventScroll: true });
}
