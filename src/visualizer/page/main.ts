// The visualizer page: explore the machine event by event, follow live sessions, replay files.
// Every step goes through the pure model (`stepRoom`): the page never decides an outcome itself.
import { COUNTING, isRoomEventType, ROOM_COUNTERS, type RoomState } from '../../../machines/domain';
import { STATE_CONDITION } from './explain';
import { initialRoomSnapshot } from '../../model/step';
import { parseReplay, ReplayError } from '../replay';
import { availableCandidates, decodeFragment, encodeFragment, walkScenario, type ScenarioView } from '../scenario';
import { edgeDetails, groupDetails, stateDetails } from './details';
import { EDGES, GROUPS, highlight, knockOutLabels, prepareDiagram } from './diagram';
import { downloadPng, downloadSvg, type ExportInfo } from './export';
import { $, announce, el, reveal } from './dom';
import { connectLive, watchUrl, type LiveClient } from './live';
import { renderEvents, renderLog, renderSessionList, renderSideTable, stepAnnouncement } from './view';
import { setupZoom } from './zoom';
import { reduce, initialState, currentOf, timelineOf, type Action, type Flag, type PageState } from './state';
import { mountTimeline, renderTimeline } from './timeline';
import { mountTraffic, type TrafficMode } from './traffic';

/** What the page holds besides its state: the diagram, the last walked view, the live link. */
const page = {
  state: initialState(),
  live: undefined as LiveClient | undefined,
  svg: undefined as SVGSVGElement | undefined,
  viewport: undefined as SVGGElement | undefined,
  view: undefined as ScenarioView | undefined,
  /** The model's walk of the whole shown scenario (the timeline's chips), kept to extend as a live session grows. */
  full: undefined as ScenarioView | undefined,
  /** Candidate id -> event, for what the current snapshot would take now. */
  available: new Map<string, string>() as ReadonlyMap<string, string>,
  traffic: undefined as TrafficMode | undefined,
};

/** Every change of the page goes through the reducer; then the page is drawn from the new state. */
function dispatch(action: Action): PageState {
  page.state = reduce(page.state, action);
  render();
  return page.state;
}

function render(): void {
  const s = page.state;
  const { events, observed } = currentOf(s);
  const view = walkScenario(events, observed, page.view);
  page.view = view;

  $('[data-testid="current-state"]').textContent = view.state;
  $('[data-testid="state-condition"]').textContent = STATE_CONDITION[view.state as RoomState];
  for (const c of ROOM_COUNTERS) $(`[data-testid="counter-${c}"]`).textContent = String(view.counters[c]);
  renderEvents($('#events'), view);
  renderLog($('#log'), view, s.scenario === 'replay' ? s.flag : undefined);
  renderMode();
  const line = timelineOf(s);
  page.full = line.at === line.events.length ? view : walkScenario(line.events, line.observed, page.full);
  renderTimeline(page.full, line.at, s.scenario === 'replay' ? s.flag?.step : undefined, timelineLabel());
  const last = view.steps[view.steps.length - 1];
  page.available = availableCandidates(view.snapshot);
  if (page.svg) highlight(page.svg, view.state as RoomState, last?.taken ?? [], page.available);
  renderDetails();
  page.traffic?.show(s);
  if (s.scenario === 'explore') writeFragment(s.explore.slice(0, s.exploreAt));
}

/** Show (and return the words of) the details of what the state names; the panel's hint when nothing is chosen. */
function renderDetails(): string {
  const box = $('[data-testid="details"]');
  const d = page.state.details;
  // Underline what the panel describes.
  for (const g of Array.from(document.querySelectorAll('#diagram [data-selected]'))) g.removeAttribute('data-selected');
  if (d) document.querySelector(d.kind === 'edge' ? `#diagram g#${CSS.escape(d.id)}` : `#diagram [data-state="${CSS.escape(d.id)}"]`)?.setAttribute('data-selected', 'true');
  const view = page.view as ScenarioView;
  if (d?.kind === 'edge') {
    const e = EDGES.get(d.id);
    if (e) return edgeDetails(box, e, view, page.available.has(e.candidate.id));
    const group = GROUPS.get(d.id);
    if (group) return groupDetails(box, group, view, new Set(page.available.keys()));
  }
  if (d?.kind === 'state') return stateDetails(box, d.id as RoomState, view);
  return '';
}

/**
 * An edge or state of the diagram was clicked (`pointer`: by a click or tap, which then brings the details it opened
 * into view where they are off the screen, as on a phone) or activated from the keyboard.
 */
function activate(target: Element, pointer = false): void {
  const picked = target.closest<SVGGElement>('[data-edge], [data-state]');
  if (!picked) return;
  // Traffic mode tells the element's figures (its state's breakdown, in the traffic panel); it never sends an event.
  if (page.state.mode === 'traffic') {
    dispatch({ type: 'select', details: picked.hasAttribute('data-edge') ? { kind: 'edge', id: picked.id } : { kind: 'state', id: picked.dataset.state as string } });
    if (pointer) reveal($('#traffic-picked'));
    return;
  }
  if (picked.hasAttribute('data-edge')) {
    // A grouped line sends the event of its member from the current state, when that one can be taken.
    const e = EDGES.get(picked.id) ?? GROUPS.get(picked.id)?.members.find((m) => page.available.has(m.candidate.id));
    const send = e !== undefined && e.event !== undefined && page.available.has(e.candidate.id);
    if (send) sendEvent(e.event as string);
    if (!e && !GROUPS.has(picked.id)) return;
    page.state = reduce(page.state, { type: 'select', details: { kind: 'edge', id: picked.id } });
    const words = renderDetails();
    if (!send) announce(words);
    if (!send && pointer) reveal($('.details-box'));
    return;
  }
  page.state = reduce(page.state, { type: 'select', details: { kind: 'state', id: picked.dataset.state as string } });
  announce(renderDetails());
  if (pointer) reveal($('.details-box'));
}

/** Send one event (from a button or an edge): the model decides what it does. */
function sendEvent(event: string): void {
  dispatch({ type: 'send', event });
  announce(stepAnnouncement(page.view as ScenarioView));
}

function renderMode(): void {
  const s = page.state;
  $('[data-testid="mode"]').textContent = s.mode;
  const detail = $('[data-testid="mode-detail"]');
  const controls = $('#replay-controls');
  controls.hidden = s.tracks.length < 2;
  $('#explore-here').hidden = s.scenario === 'explore';
  if (s.scenario === 'replay' && s.tracks.length > 0) {
    const t = s.tracks[s.track];
    detail.textContent = `${t.id}${t.description ? `: ${t.description}` : ''}`;
  } else if (s.scenario === 'live') {
    const live = s.following ? s.sessions.get(s.following) : undefined;
    detail.textContent = live ? `following ${live.label}${live.stopped ? ' (ended)' : ''}${live.overflow ? ' (too many steps: later ones not kept)' : ''}` : '';
  } else detail.textContent = '';
  detail.title = detail.textContent ?? '';
  renderSessions();
}

/** The exported file's header: what is shown, the scenario, and the legend as on the page. */
function exportInfo(): ExportInfo {
  const s = page.state;
  const view = page.view as ScenarioView;
  const scheme = matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  const events = view.steps.map((x) => x.event);
  const legend = Array.from(document.querySelectorAll(s.mode === 'traffic' ? '#traffic-legend:not([hidden]) li, #compare-legend:not([hidden]) li' : '.key li'), (li) => li.textContent?.trim() ?? '');
  return {
    title: `roomSessionMachine · ${s.mode}${s.mode === 'traffic' ? '' : ` · now ${view.state}`} · ${scheme} colours`,
    scenario: s.mode === 'traffic' ? [$('#compare-status').textContent, $('#traffic-totals').textContent].filter((x) => x).join(' ') : `${timelineLabel()}: ${events.length === 0 ? 'no events yet' : events.join(', ')}`,
    legend,
  };
}

/** What the timeline shows, in words. */
function timelineLabel(): string {
  const s = page.state;
  if (s.scenario === 'replay') {
    const t = s.tracks[s.track];
    return `Replay of ${t.id}${t.description ? `: ${t.description}` : ''}`;
  }
  if (s.scenario === 'live') {
    const live = s.following ? s.sessions.get(s.following) : undefined;
    return live ? `Live: ${live.label}${s.liveAt === undefined ? '' : ' (stepped back: Last follows it again)'}` : 'Live: no session followed';
  }
  if (s.mode === 'traffic' && s.explore.length === 0) return 'Traffic: replay a session from the panel here';
  return s.explore.length === 0 ? 'Explore: send an event to start' : 'Explore';
}

/** The exported file's name: what it shows (traffic's counts, or the current state). */
const exportName = (ext: string) => `room-session-${page.state.mode === 'traffic' ? 'traffic' : page.view?.state ?? 'init'}.${ext}`;

function renderSessions(): void {
  const s = page.state;
  renderSessionList($('#live-sessions'), s.sessions, s.scenario === 'live' ? s.following : undefined);
}

// --- the URL fragment: `#events=...` (explore), optionally `&live=<server>` ---
let lastFragment = '';
function writeFragment(events: readonly string[]): void {
  const live = new URLSearchParams(location.hash.slice(1)).get('live');
  let hash = encodeFragment(events);
  if (live) hash = `${hash || '#'}${hash ? '&' : ''}live=${encodeURIComponent(live)}`;
  if (hash === lastFragment) return;
  lastFragment = hash;
  const url = `${location.href.split('#')[0]}${hash}`;
  try {
    history.replaceState(null, '', url);
  } catch {
    location.hash = hash;
  }
}

function readFragment(): void {
  const events = decodeFragment(location.hash);
  lastFragment = location.hash;
  const s = page.state;
  if (s.mode !== 'explore' || events.join(',') !== s.explore.slice(0, s.exploreAt).join(',')) {
    dispatch({ type: 'fragment', events });
    announce(`Loaded a scenario of ${events.length} steps from the link; now ${page.view?.state}`);
  }
}

// --- wiring ---
function wire(): void {
  // The skip link moves the focus itself: following its href would replace the fragment, which holds the scenario.
  const skip = $<HTMLAnchorElement>('#skip-diagram');
  skip.addEventListener('click', (ev) => {
    ev.preventDefault();
    focusFrom(skip.hash.slice(1));
  });
  $('#events').addEventListener('click', (ev) => {
    const b = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-event]');
    if (!b) return;
    const event = b.dataset.event as string;
    if (b.getAttribute('aria-disabled') === 'true') return announce(b.title);
    sendEvent(event);
  });
  $('#undo').addEventListener('click', () => {
    const before = page.state;
    const s = dispatch({ type: 'undo' });
    if (s.exploreAt === 0 && (before.scenario !== 'explore' || before.exploreAt === 0)) return announce('Nothing to undo');
    announce(`Undone; now ${page.view?.state} after ${s.exploreAt} steps`);
  });
  $('#reset').addEventListener('click', () => {
    dispatch({ type: 'reset' });
    announce(stepAnnouncement(page.view as ScenarioView));
  });
  $('#share').addEventListener('click', async () => {
    dispatch({ type: 'explore-here' });
    try {
      await navigator.clipboard.writeText(location.href);
      announce('Link to this scenario copied');
    } catch {
      announce('Could not copy: the link to this scenario is in the address bar');
    }
  });
  $('#explore-here').addEventListener('click', () => dispatch({ type: 'explore-here' }));
  window.addEventListener('hashchange', readFragment);
  // The counter an event moves, highlighted while its button or edge is hovered or focused.
  const moves = (ev: Event) => {
    const t = (ev.target as Element).closest?.('button[data-event], [data-edge][data-event]');
    showMoves(ev.type === 'mouseout' || ev.type === 'focusout' ? undefined : t?.getAttribute('data-event') ?? undefined);
  };
  for (const box of [$('#events'), $('#diagram')]) for (const type of ['mouseover', 'mouseout', 'focusin', 'focusout']) box.addEventListener(type, moves);
  mountTimeline({
    step: (to) => {
      const s = dispatch({ type: 'step', to });
      announceStep();
      const line = timelineOf(s);
      return line.at < line.events.length;
    },
  });
  $('#diagram').addEventListener('click', (ev) => activate(ev.target as Element, true));
  $('#diagram').addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' && ev.key !== ' ') return;
    const t = ev.target as Element;
    if (!t.closest('[data-edge], [data-state]')) return;
    ev.preventDefault();
    activate(t);
  });

  $('#export-svg').addEventListener('click', () => {
    if (page.svg) downloadSvg(page.svg, exportInfo(), exportName('svg'));
  });
  $('#export-png').addEventListener('click', () => {
    if (page.svg)
      downloadPng(page.svg, exportInfo(), exportName('png')).catch((err: unknown) => announce(`PNG export failed: ${err instanceof Error ? err.message : String(err)}`));
  });

  // replay
  $<HTMLInputElement>('#replay-file').addEventListener('change', async (ev) => {
    const file = (ev.target as HTMLInputElement).files?.[0];
    if (file) await loadReplay(file.name, await file.text());
  });
  // A file dropped anywhere on the page is replayed too.
  const dropping = (on: boolean) => document.body.toggleAttribute('data-dropping', on);
  document.addEventListener('dragover', (ev) => {
    if (!ev.dataTransfer?.types.includes('Files')) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'copy';
    dropping(true);
  });
  document.addEventListener('dragleave', (ev) => {
    if (ev.relatedTarget === null) dropping(false);
  });
  document.addEventListener('drop', async (ev) => {
    dropping(false);
    if (ev.target === $('#replay-file')) return; // the file input takes it itself (its change event)
    const file = ev.dataTransfer?.files?.[0];
    if (!file) return;
    ev.preventDefault();
    await loadReplay(file.name, await file.text());
  });
  $<HTMLSelectElement>('#replay-track').addEventListener('change', (ev) => {
    dispatch({ type: 'track', track: Number((ev.target as HTMLSelectElement).value) });
  });

  // live
  $('#live-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = $<HTMLInputElement>('#live-url').value.trim();
    try {
      startLive(watchUrl(input), $<HTMLInputElement>('#live-token').value);
    } catch (err) {
      $('[data-testid="live-status"]').textContent = `cannot connect: ${err instanceof Error ? err.message : String(err)}`;
    }
  });
  $('#live-sessions').addEventListener('click', (ev) => {
    const b = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-follow]');
    if (!b) return;
    const s = dispatch({ type: 'follow', session: b.dataset.follow as string });
    announce(`Following ${s.sessions.get(s.following as string)?.label}; now ${page.view?.state}`);
    // The session is drawn on the chart and the timeline, above the list: shown.
    reveal($('section.diagram'));
  });
}

/**
 * Focus the element `id` names or, when it cannot take the focus (the timeline's First is disabled at its first step,
 * and on an empty scenario all its step buttons are), the first control after it that can: where Tab would go next.
 */
function focusFrom(id: string): void {
  const target = document.getElementById(id);
  if (!target) return;
  const controls = Array.from(document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])'));
  const usable = (e: HTMLElement) => !(e as HTMLButtonElement).disabled && !e.closest('[hidden]') && e.getClientRects().length > 0;
  const from = controls.indexOf(target);
  if (from < 0) return target.focus();
  controls.slice(from).find(usable)?.focus();
}

/** Mark the counter `event` moves (by +1 or -1) in the Now panel; none when undefined. */
function showMoves(event: string | undefined): void {
  for (const e of Array.from(document.querySelectorAll('.now [data-moves]'))) e.removeAttribute('data-moves');
  if (!event || !isRoomEventType(event)) return;
  const { counter, delta } = COUNTING[event];
  for (const e of Array.from(document.querySelectorAll(`.now [data-counter="${counter}"]`))) e.setAttribute('data-moves', delta > 0 ? '+1' : '−1');
}

/** Say the step now shown, and where the source disagrees with the model. */
function announceStep(): void {
  const view = page.view as ScenarioView;
  const s = view.steps[view.steps.length - 1];
  announce(`${stepAnnouncement(view)}${s && s.mismatches.length > 0 ? `; the file disagrees: ${s.mismatches.join('; ')}` : ''}`);
}

/** Replay a file's text (or a traffic session's reports), at step `at` (0: before the first), `flag` marking a step. */
async function loadReplay(name: string, text: string, at = 0, flag?: Flag): Promise<boolean> {
  const error = $('[data-testid="replay-error"]');
  let tracks;
  try {
    tracks = parseReplay(text);
  } catch (err) {
    // Said first in plain words (what happened, what is still shown); the parser's own words after, as the detail.
    const raw = err instanceof Error ? err.message : String(err);
    const what = !(err instanceof ReplayError) ? 'it could not be read' : raw.startsWith('not JSON') ? 'it is not JSON' : raw.includes('empty array') ? 'it holds nothing to replay' : 'it is not a list of status reports or test vectors';
    const still = page.state.scenario === 'explore' && page.state.explore.length === 0 ? 'nothing was replayed' : `the page still shows ${timelineLabel()}`;
    error.replaceChildren(el('strong', {}, `${name} was not loaded`), `: ${what}; ${still}. `, el('span', { class: 'detail' }, `(${name}: ${raw})`));
    if (error.getBoundingClientRect().top < 0) error.scrollIntoView({ block: 'nearest' });
    return false;
  }
  error.replaceChildren();
  $('#replay-track').replaceChildren(
    ...tracks.map((t, i) => el('option', { value: String(i) }, `${t.id} (${t.events.length} steps)${t.description ? `: ${t.description}` : ''}`)),
  );
  dispatch({ type: 'replay', tracks, at, ...(flag ? { flag } : {}) });
  if (at === 0) announce(`Loaded ${name}: ${tracks.length} track(s); step through with Next`);
  return true;
}

function startLive(url: string, token = ''): void {
  page.live?.close();
  $<HTMLInputElement>('#live-url').value = url;
  page.live = connectLive(url, {
    onStatus: (text) => ($('[data-testid="live-status"]').textContent = text),
    onSessions: (sessions, changed) => {
      page.state = reduce(page.state, { type: 'sessions', sessions });
      const s = page.state;
      scheduleLive(s.scenario === 'live' && (changed === undefined || changed === s.following));
    },
  }, token || undefined);
}

// A session can send thousands of events a second: draw at most once per frame, whatever arrived meanwhile.
let pending: { followed: boolean } | undefined;
function scheduleLive(followed: boolean): void {
  if (pending) {
    pending.followed ||= followed;
    return;
  }
  pending = { followed };
  requestAnimationFrame(() => {
    const { followed: redraw } = pending as { followed: boolean };
    pending = undefined;
    if (redraw && page.state.scenario === 'live') {
      render();
      announce(stepAnnouncement(page.view as ScenarioView));
    } else renderSessions();
  });
}

/** Tag the diagram the build inlined (before the first render, which highlights it). */
function prepare(): void {
  const box = $('#diagram');
  try {
    const svg = box.querySelector<SVGSVGElement>(':scope > svg');
    if (!svg) throw new Error('the page was built without its diagram');
    page.viewport = prepareDiagram(svg);
    page.svg = svg;
  } catch (err) {
    page.svg = undefined;
    box.replaceChildren(el('p', { role: 'alert', class: 'error' }, `The diagram could not be drawn: ${err instanceof Error ? err.message : String(err)}`));
    document.body.dataset.diagram = 'error';
  }
}

/** Fit the highlighted diagram to its box and wire the zoom controls: the diagram is drawn. */
function fitDiagram(): void {
  if (!page.svg || !page.viewport) return;
  // Where the fit view's text would be too small to read (a phone), the chart opens zoomed in at its start.
  const home = [page.svg.querySelector('#start'), page.svg.querySelector(`[data-state="${String(initialRoomSnapshot().value)}"]`)].filter((e): e is Element => e !== null);
  const zoom = setupZoom($('#diagram'), page.svg, page.viewport, home);
  $('[data-testid="zoom-in"]').addEventListener('click', zoom.zoomIn);
  $('[data-testid="zoom-out"]').addEventListener('click', zoom.zoomOut);
  $('[data-testid="zoom-fit"]').addEventListener('click', zoom.fit);
  document.body.dataset.diagram = 'ready';
  performance.mark('diagram-drawn');
  // Label backings read the layout: after the first paint.
  const svg = page.svg;
  requestAnimationFrame(() => setTimeout(() => knockOutLabels(svg)));
}

function start(): void {
  wire();
  // The table is below the first screen: fill it after the first paint.
  requestAnimationFrame(() => setTimeout(() => renderSideTable($('#side-table'))));
  page.state = initialState(decodeFragment(location.hash));
  lastFragment = location.hash;
  prepare();
  page.traffic = mountTraffic({ svg: () => page.svg, setMode: (on) => dispatch({ type: 'traffic', on }), replay: loadReplay, compare: (compare) => dispatch({ type: 'compare', compare }) });
  render();
  fitDiagram();
  const params = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const liveParam = params.get('live') ?? query.get('live');
  try {
    if (liveParam) startLive(watchUrl(liveParam));
    else if (location.protocol === 'http:' || location.protocol === 'https:') startLive(watchUrl(`${location.protocol}//${location.host}/`));
  } catch (err) {
    $('[data-testid="live-status"]').textContent = `cannot connect: ${err instanceof Error ? err.message : String(err)}`;
  }
}

start();
