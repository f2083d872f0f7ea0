// Traffic's top paths from init: the ways ended sessions went, with counts and shares, each highlighted on the diagram
// while hovered or focused (or pinned by its button), each with an example session to replay.
import type { TrafficView } from '../traffic';
import { pathEdges } from '../trafficEdges';
import { DRAWN_AS, EDGES } from './diagram';
import { announce, el } from './dom';

export interface PathsPanel {
  render(v: TrafficView): void;
  /** Put the shown path back on a redrawn diagram. */
  repaint(): void;
  /** Take any path off the diagram (leaving traffic mode). */
  clear(): void;
}

export interface PathsHooks {
  svg(): SVGSVGElement | undefined;
  replay(session: string): void;
}

const pathText = (states: readonly string[], truncated: boolean) => `${states.join(' → ')}${truncated ? ' → …' : ''}`;

export function mountPaths(box: HTMLElement, hooks: PathsHooks): PathsPanel {
  const list = el('ol', { id: 'traffic-paths', class: 'paths', 'data-testid': 'traffic-paths', 'aria-labelledby': 'paths-title' });
  box.append(
    el('h3', { id: 'paths-title' }, 'Top paths from init'),
    el('p', { class: 'why' }, 'Sessions that ended in the window, by the states they went through. Hover, focus or press a path to see it on the diagram.'),
    list,
  );
  /** The pinned path's key (its states), and the one hovered or focused now. */
  let pinned: string | undefined;
  let shown: string | undefined;

  const show = (key: string | undefined) => {
    shown = key;
    const svg = hooks.svg();
    if (!svg) return;
    for (const e of Array.from(svg.querySelectorAll('[data-on-path]'))) e.removeAttribute('data-on-path');
    const diagram = svg.closest('#diagram');
    if (!key) return diagram?.removeAttribute('data-path');
    const states = key.split(' ');
    const ids = pathEdges(states);
    const on = new Set<string>(states);
    for (const id of ids) {
      const e = EDGES.get(id);
      if (e) on.add(e.from).add(e.to);
      svg.querySelector(`g#${CSS.escape(DRAWN_AS.get(id) ?? id)}[data-edge]`)?.setAttribute('data-on-path', 'true');
    }
    for (const s of on) svg.querySelector(`[data-state="${CSS.escape(s)}"]`)?.setAttribute('data-on-path', 'true');
    diagram?.setAttribute('data-path', key);
  };
  const keyOf = (target: EventTarget | null) => (target instanceof Element ? target.closest<HTMLElement>('li[data-path]')?.dataset.path : undefined);
  for (const type of ['mouseover', 'focusin']) list.addEventListener(type, (ev) => show(keyOf(ev.target) ?? pinned));
  list.addEventListener('mouseleave', () => show(pinned));
  list.addEventListener('focusout', (ev) => {
    if (!keyOf((ev as FocusEvent).relatedTarget)) show(pinned);
  });
  list.addEventListener('click', (ev) => {
    const b = (ev.target as Element).closest<HTMLButtonElement>('button');
    const key = keyOf(b);
    if (!b || !key) return;
    if (b.dataset.session) return hooks.replay(b.dataset.session);
    pinned = pinned === key ? undefined : key;
    for (const x of Array.from(list.querySelectorAll('button[aria-pressed]'))) x.setAttribute('aria-pressed', String(keyOf(x) === pinned));
    show(pinned ?? key);
    announce(pinned ? `Path ${b.textContent} shown on the diagram` : 'Path no longer pinned');
  });

  return {
    render(v) {
      const keys = new Set(v.paths.map((p) => p.states.join(' ')));
      if (pinned && !keys.has(pinned)) pinned = undefined;
      list.replaceChildren(
        ...(v.paths.length === 0
          ? [el('li', { class: 'why' }, 'No session ended in this window.')]
          : v.paths.map((p) => {
              const key = p.states.join(' ');
              const text = pathText(p.states, p.truncated);
              return el(
                'li',
                { 'data-path': key, 'data-count': String(p.count), 'data-truncated': String(p.truncated) },
                el('button', { type: 'button', class: 'path', 'data-testid': 'path-show', 'aria-pressed': String(key === pinned) }, text),
                el('span', { class: 'num' }, `${p.count}${p.share === null ? '' : ` · ${Math.round(p.share * 100)} %`}`),
                el('button', { type: 'button', 'data-session': p.exampleSession, 'data-testid': 'path-replay', title: `Replay session ${p.exampleSession}, one that went ${text}` }, 'Replay'),
              );
            })),
      );
    },
    repaint: () => show(shown && document.querySelector(`#traffic-paths li[data-path="${CSS.escape(shown)}"]`) ? shown : pinned),
    clear: () => {
      pinned = undefined;
      show(undefined);
    },
  };
}
