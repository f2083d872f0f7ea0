// The docked timeline under the diagram: the shown scenario's steps as chips (every step, also those after the
// current one), the current step, first/previous/next/last, and play at a speed. It draws from the page's state
// and asks for changes through `step`; it never changes the page itself.
import type { ScenarioView } from '../scenario';
import type { Step } from './state';
import { $, el } from './dom';

export interface TimelineHooks {
  /** Move the shown scenario to a step (the page's reducer). Returns whether a later step is left to play. */
  step(to: Step): boolean;
}

/** Play speeds: steps per second. */
/** The most chips drawn at once. */
const CHIPS = 200;

export const PLAY_SPEEDS = [0.5, 1, 2, 4] as const;

/**
 * A chip's words: the event whole, its object ("Session.", "Publisher.") muted before its name: both objects have a
 * streamCreated and a streamDestroyed, so the name alone would not say which.
 */
export function chipText(event: string): Array<Node | string> {
  const dot = event.lastIndexOf('.');
  return dot < 0 ? [event] : [el('span', { class: 'obj' }, event.slice(0, dot + 1)), event.slice(dot + 1)];
}

let playing: ReturnType<typeof setTimeout> | undefined;

export function mountTimeline(hooks: TimelineHooks): void {
  const stop = () => {
    if (playing !== undefined) clearTimeout(playing);
    playing = undefined;
    const b = $('[data-testid="play"]');
    b.setAttribute('aria-pressed', 'false');
    b.textContent = 'Play';
  };
  const tick = () => {
    const speed = Number($<HTMLSelectElement>('[data-testid="play-speed"]').value) || 1;
    playing = setTimeout(() => (hooks.step('next') ? tick() : stop()), 1000 / speed);
  };
  const go = (to: Step) => () => {
    stop();
    hooks.step(to);
  };
  $('[data-testid="step-first"]').addEventListener('click', go('first'));
  $('[data-testid="step-prev"]').addEventListener('click', go('prev'));
  $('[data-testid="step-next"]').addEventListener('click', go('next'));
  $('[data-testid="step-last"]').addEventListener('click', go('last'));
  $('[data-testid="play"]').addEventListener('click', (ev) => {
    if (playing !== undefined) return stop();
    const b = ev.currentTarget as HTMLButtonElement;
    // From the end, play starts over.
    if (b.dataset.atEnd === 'true') hooks.step('first');
    b.setAttribute('aria-pressed', 'true');
    b.textContent = 'Pause';
    tick();
  });
  $('#timeline-chips').addEventListener('click', (ev) => {
    const chip = (ev.target as Element).closest<HTMLButtonElement>('button[data-step]');
    if (chip) go(Number(chip.dataset.step))();
  });
}

/** Draw the timeline: `full` is the model's walk of the whole scenario (every chip's verdict), `at` the current step. */
export function renderTimeline(full: ScenarioView, at: number, flagged: number | undefined, label: string): void {
  const list = $('#timeline-chips');
  const start = el('button', { type: 'button', 'data-step': '0', class: 'chip start', title: 'Before the first step' }, 'start');
  const chips = [el('li', {}, start)];
  // A long session: the chips around the current step only (thousands of buttons would slow every redraw).
  const from = Math.max(0, Math.min(at - CHIPS / 2, full.steps.length - CHIPS));
  if (from > 0) chips.push(el('li', { class: 'why', 'data-testid': 'timeline-truncated' }, `… ${from} earlier`));
  for (const s of full.steps.slice(from, from + CHIPS)) {
    const b = el('button', { type: 'button', 'data-step': String(s.n), class: 'chip', title: `Step ${s.n}: ${s.event}` }, el('span', { class: 'n' }, String(s.n)), ' ', ...chipText(s.event));
    if (!s.accepted) {
      b.setAttribute('data-rejected', 'true');
      b.title += ' (rejected)';
    }
    if (s.mismatches.length > 0 || flagged === s.n) {
      b.setAttribute('data-mismatch', 'true');
      b.title += ' (disagrees with the model)';
    }
    chips.push(el('li', {}, b));
  }
  const later = full.steps.length - from - CHIPS;
  if (later > 0) chips.push(el('li', { class: 'why' }, `${later} later …`));
  const current = chips.map((c) => c.firstElementChild).find((b): b is HTMLElement => b instanceof HTMLElement && b.dataset.step === String(at)) ?? start;
  current.setAttribute('aria-current', 'step');
  list.replaceChildren(...chips);
  // The current chip in view, scrolling the strip only (never the page). The start chip is the strip's first: no
  // need to measure (measuring forces a layout of the whole page, which on the first draw costs it a second one).
  if (current === start) list.scrollLeft = 0;
  else {
    const box = list.getBoundingClientRect();
    const r = current.getBoundingClientRect();
    if (r.left < box.left || r.right > box.right) list.scrollLeft += r.left - box.left - (box.width - r.width) / 2;
  }

  $('[data-testid="step-position"]').textContent = `${at} / ${full.steps.length}`;
  $('#timeline-label').textContent = label;
  const first = at === 0;
  const last = at >= full.steps.length;
  for (const [id, off] of [['step-first', first], ['step-prev', first], ['step-next', last], ['step-last', last]] as const) $(`[data-testid="${id}"]`).toggleAttribute('disabled', off);
  const play = $('[data-testid="play"]');
  play.dataset.atEnd = String(last);
  play.toggleAttribute('disabled', full.steps.length === 0);
}
