// The visualizer page: explore the machine event by event, follow live sessions, replay files.
// Every step goes through the pure model (`stepRoom`): the page never decides an outcome itself.
import { ROOM_COUNTERS, type RoomState } from '../../../machines/domain';
import { initialRoomSnapshot } from '../../model/step';
import { liveTrack, type LiveSession } from '../protocol';
import { parseReplay, ReplayError, type ReplayTrack } from '../replay';
import { availableCandidates, decodeFragment, encodeFragment, walkScenario, type Observed, type ScenarioView } from '../scenario';
import { edgeDetails, stateDetails } from './details';
import { EDGES, highlight, prepareDiagram } from './diagram';
import { downloadPng, downloadSvg } from './export';
import { $, announce, el } from './dom';
import { connectLive, watchUrl, type LiveClient } from './live';
import { renderEvents, renderLog, renderSessionList, renderSideTable, stepAnnouncement } from './view';
import { setupZoom } from './zoom';
import { mountTraffic } from './traffic';

type Mode = 'explore' | 'live' | 'replay';

const app = {
  mode: 'explore' as Mode,
  explore: [] as string[],
  tracks: [] as ReplayTrack[],
  track: 0,
  position: 0,
  live: undefined as LiveClient | undefined,
  sessions: new Map<string, LiveSession>() as ReadonlyMap<string, LiveSession>,
  following: undefined as string | undefined,
  svg: undefined as SVGSVGElement | undefined,
  viewport: undefined as SVGGElement | undefined,
  view: undefined as ScenarioView | undefined,
  /** Candidate id -> event, for what the current snapshot would take now. */
  available: new Map<string, string>() as ReadonlyMap<string, string>,
  /** What the details panel shows: an edge id or a state, re-rendered on every step. */
  details: undefined as { kind: 'edge' | 'state'; id: string } | undefined,
};

/** The scenario the page shows now: the explore sequence, the replay track up to its position, or the followed session. */
function current(): { events: string[]; observed?: Observed[] } {
  if (app.mode === 'replay') {
    const t = app.tracks[app.track];
    return { events: t.events.slice(0, app.position), observed: t.observed.slice(0, app.position) };
  }
  if (app.mode === 'live') {
    const s = app.following ? app.sessions.get(app.following) : undefined;
    return s ? liveTrack(s) : { events: [] };
  }
  return { events: app.explore };
}

/** Leave replay or live for explore, starting from what is shown. */
function forkToExplore(): void {
  if (app.mode === 'explore') return;
  app.explore = [...current().events];
  app.mode = 'explore';
  announce(`Exploring from step ${app.explore.length}`);
}

function render(): void {
  const { events, observed } = current();
  const view = walkScenario(events, observed, app.view);
  app.view = view;

  $('[data-testid="current-state"]').textContent = view.state;
  for (const c of ROOM_COUNTERS) $(`[data-testid="counter-${c}"]`).textContent = String(view.counters[c]);
  renderEvents($('#events'), view);
  renderLog($('#log'), view);
  renderMode();
  const last = view.steps[view.steps.length - 1];
  app.available = availableCandidates(view.snapshot);
  if (app.svg) highlight(app.svg, view.state as RoomState, last?.taken ?? [], app.available);
  renderDetails();
  if (app.mode === 'explore') writeFragment(app.explore);
}

/** Show (and return the words of) the details of what `app.details` names; the panel's hint when nothing is chosen. */
function renderDetails(): string {
  const box = $('[data-testid="details"]');
  const d = app.details;
  // Underline what the panel describes.
  for (const g of Array.from(document.querySelectorAll('#diagram [data-selected]'))) g.removeAttribute('data-selected');
  if (d) document.querySelector(d.kind === 'edge' ? `#diagram g#${CSS.escape(d.id)}` : `#diagram [data-state="${CSS.escape(d.id)}"]`)?.setAttribute('data-selected', 'true');
  const view = app.view as ScenarioView;
  if (d?.kind === 'edge') {
    const e = EDGES.get(d.id);
    if (e) return edgeDetails(box, e, view, app.available.has(e.candidate.id));
  }
  if (d?.kind === 'state') return stateDetails(box, d.id as RoomState, view);
  return '';
}

/** An edge or state of the diagram was clicked or activated from the keyboard. */
function activate(target: Element): void {
  const edge = target.closest<SVGGElement>('[data-edge]');
  if (edge) {
    const e = EDGES.get(edge.id);
    if (!e) return;
    const send = e.event !== undefined && app.available.has(e.candidate.id);
    if (send) sendEvent(e.event as string);
    app.details = { kind: 'edge', id: e.id };
    const words = renderDetails();
    if (!send) announce(words);
    return;
  }
  const state = target.closest<SVGGElement>('[data-state]');
  if (state) {
    app.details = { kind: 'state', id: state.dataset.state as string };
    announce(renderDetails());
  }
}

/** Send one event in explore mode (from a button or an edge): the model decides what it does. */
function sendEvent(event: string): void {
  forkToExplore();
  app.explore = [...app.explore, event];
  render();
  announce(stepAnnouncement(app.view as ScenarioView));
}

function renderMode(): void {
  $('[data-testid="mode"]').textContent = app.mode;
  const detail = $('[data-testid="mode-detail"]');
  const controls = $('#replay-controls');
  controls.hidden = app.tracks.length === 0;
  $('#explore-here').hidden = app.mode === 'explore';
  if (app.mode === 'replay') {
    const t = app.tracks[app.track];
    detail.textContent = `${t.id}${t.description ? `: ${t.description}` : ''}`;
  } else if (app.mode === 'live') {
    const s = app.following ? app.sessions.get(app.following) : undefined;
    detail.textContent = s ? `following ${s.label}${s.stopped ? ' (ended)' : ''}${s.overflow ? ' (too many steps: later ones not kept)' : ''}` : '';
  } else detail.textContent = '';
  if (app.tracks.length > 0) {
    $('#replay-position').textContent = `${app.mode === 'replay' ? app.position : 0} / ${app.tracks[app.track].events.length}`;
  }
  renderSessions();
}

function renderSessions(): void {
  renderSessionList($('#live-sessions'), app.sessions, app.mode === 'live' ? app.following : undefined);
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
  if (app.mode !== 'explore' || events.join(',') !== app.explore.join(',')) {
    app.mode = 'explore';
    app.explore = events;
    render();
    announce(`Loaded a scenario of ${events.length} steps from the link; now ${app.view?.state}`);
  }
}

// --- wiring ---
function wire(): void {
  // The skip link moves the focus itself: following its href would replace the fragment, which holds the scenario.
  const skip = $<HTMLAnchorElement>('#skip-diagram');
  skip.addEventListener('click', (ev) => {
    ev.preventDefault();
    document.getElementById(skip.hash.slice(1))?.focus();
  });
  $('#events').addEventListener('click', (ev) => {
    const b = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-event]');
    if (!b) return;
    const event = b.dataset.event as string;
    if (b.getAttribute('aria-disabled') === 'true') return announce(b.title);
    sendEvent(event);
  });
  $('#undo').addEventListener('click', () => {
    forkToExplore();
    if (app.explore.length === 0) return announce('Nothing to undo');
    app.explore = app.explore.slice(0, -1);
    render();
    announce(`Undone; now ${app.view?.state} after ${app.explore.length} steps`);
  });
  $('#reset').addEventListener('click', () => {
    forkToExplore();
    app.explore = [];
    render();
    announce(stepAnnouncement(app.view as ScenarioView));
  });
  $('#share').addEventListener('click', async () => {
    forkToExplore();
    render();
    try {
      await navigator.clipboard.writeText(location.href);
      announce('Link to this scenario copied');
    } catch {
      announce('Could not copy: the link to this scenario is in the address bar');
    }
  });
  $('#explore-here').addEventListener('click', () => {
    forkToExplore();
    render();
  });
  window.addEventListener('hashchange', readFragment);
  $('#diagram').addEventListener('click', (ev) => activate(ev.target as Element));
  $('#diagram').addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' && ev.key !== ' ') return;
    const t = ev.target as Element;
    if (!t.closest('[data-edge], [data-state]')) return;
    ev.preventDefault();
    activate(t);
  });

  $('#export-svg').addEventListener('click', () => {
    if (app.svg) downloadSvg(app.svg, `room-session-${app.view?.state ?? 'init'}.svg`);
  });
  $('#export-png').addEventListener('click', () => {
    if (app.svg)
      downloadPng(app.svg, `room-session-${app.view?.state ?? 'init'}.png`).catch((err: unknown) => announce(`PNG export failed: ${err instanceof Error ? err.message : String(err)}`));
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
    app.track = Number((ev.target as HTMLSelectElement).value);
    app.position = 0;
    app.mode = 'replay';
    render();
  });
  const move = (to: (n: number, max: number) => number) => () => {
    if (app.tracks.length === 0) return;
    const max = app.tracks[app.track].events.length;
    app.position = app.mode === 'replay' ? Math.max(0, Math.min(max, to(app.position, max))) : Math.max(0, Math.min(max, to(0, max)));
    app.mode = 'replay';
    render();
    const view = app.view as ScenarioView;
    const s = view.steps[view.steps.length - 1];
    announce(`${stepAnnouncement(view)}${s && s.mismatches.length > 0 ? `; the file disagrees: ${s.mismatches.join('; ')}` : ''}`);
  };
  $('#replay-first').addEventListener('click', move(() => 0));
  $('#replay-prev').addEventListener('click', move((n) => n - 1));
  $('#replay-next').addEventListener('click', move((n) => n + 1));
  $('#replay-last').addEventListener('click', move((_n, max) => max));

  // live
  $('#live-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = $<HTMLInputElement>('#live-url').value.trim();
    try {
      startLive(watchUrl(input));
    } catch (err) {
      $('[data-testid="live-status"]').textContent = `cannot connect: ${err instanceof Error ? err.message : String(err)}`;
    }
  });
  $('#live-sessions').addEventListener('click', (ev) => {
    const b = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-follow]');
    if (!b) return;
    app.following = b.dataset.follow;
    app.mode = 'live';
    render();
    announce(`Following ${app.sessions.get(app.following as string)?.label}; now ${app.view?.state}`);
  });
}

export async function loadReplay(name: string, text: string): Promise<void> {
  const error = $('[data-testid="replay-error"]');
  try {
    app.tracks = parseReplay(text);
  } catch (err) {
    error.textContent = `${name}: ${err instanceof ReplayError ? err.message : String(err)}`;
    return;
  }
  error.textContent = '';
  app.track = 0;
  app.position = 0;
  app.mode = 'replay';
  $('#replay-track').replaceChildren(
    ...app.tracks.map((t, i) => el('option', { value: String(i) }, `${t.id} (${t.events.length} steps)${t.description ? `: ${t.description}` : ''}`)),
  );
  render();
  announce(`Loaded ${name}: ${app.tracks.length} track(s); step through with Next`);
}

function startLive(url: string): void {
  app.live?.close();
  $<HTMLInputElement>('#live-url').value = url;
  app.live = connectLive(url, {
    onStatus: (text) => ($('[data-testid="live-status"]').textContent = text),
    onSessions: (sessions, changed) => {
      app.sessions = sessions;
      scheduleLive(app.mode === 'live' && (changed === undefined || changed === app.following));
    },
  });
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
    if (redraw && app.mode === 'live') {
      render();
      announce(stepAnnouncement(app.view as ScenarioView));
    } else renderSessions();
  });
}

/** Tag the diagram the build inlined (before the first render, which highlights it). */
function prepare(): void {
  const box = $('#diagram');
  try {
    const svg = box.querySelector<SVGSVGElement>(':scope > svg');
    if (!svg) throw new Error('the page was built without its diagram');
    app.viewport = prepareDiagram(svg);
    app.svg = svg;
  } catch (err) {
    app.svg = undefined;
    box.replaceChildren(el('p', { role: 'alert', class: 'error' }, `The diagram could not be drawn: ${err instanceof Error ? err.message : String(err)}`));
    document.body.dataset.diagram = 'error';
  }
}

/** Fit the highlighted diagram to its box and wire the zoom controls: the diagram is drawn. */
function fitDiagram(): void {
  if (!app.svg || !app.viewport) return;
  // Where the fit view's text would be too small to read (a phone), the chart opens zoomed in at its start.
  const home = [app.svg.querySelector('#start'), app.svg.querySelector(`[data-state="${String(initialRoomSnapshot().value)}"]`)].filter((e): e is Element => e !== null);
  const zoom = setupZoom($('#diagram'), app.svg, app.viewport, home);
  $('[data-testid="zoom-in"]').addEventListener('click', zoom.zoomIn);
  $('[data-testid="zoom-out"]').addEventListener('click', zoom.zoomOut);
  $('[data-testid="zoom-fit"]').addEventListener('click', zoom.fit);
  document.body.dataset.diagram = 'ready';
  performance.mark('diagram-drawn');
}

function start(): void {
  wire();
  // The table is below the first screen: fill it after the first paint.
  requestAnimationFrame(() => setTimeout(() => renderSideTable($('#side-table'))));
  app.explore = decodeFragment(location.hash);
  lastFragment = location.hash;
  prepare();
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
mountTraffic({ svg: () => app.svg, loadReplay });
