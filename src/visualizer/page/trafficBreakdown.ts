// A state's breakdown in traffic mode, drawn in the panel when the state is chosen on the diagram: its entries, time
// spent, ways in and out with counts and shares, sessions that ended in it, and example sessions to replay.
import type { RoomState } from '../../../machines/domain';
import { seconds, total, waysOf, waysOutText, type TrafficView, type Way } from '../traffic';
import { breakable, el } from './dom';

const pct = (share: number) => `${Math.round(share * 100)} %`;
/** A session id, short enough for a button (the whole id is in its title). */
const short = (id: string) => (id.length > 10 ? `${id.slice(0, 8)}…` : id);

function waysTable(side: 'in' | 'out', state: RoomState, ways: readonly Way[]): HTMLElement {
  const used = ways.filter((w) => w.count > 0);
  const n = total(ways);
  const title = side === 'in' ? `Ways in: ${n} transition${n === 1 ? '' : 's'} from other states` : `Ways out: ${n} transition${n === 1 ? '' : 's'} to other states`;
  return el(
    'table',
    { 'data-testid': `breakdown-${side}`, class: 'breakdown' },
    el('caption', {}, title),
    el('thead', {}, el('tr', {}, ...[side === 'in' ? 'from, on' : 'to, on', 'count', 'share'].map((h) => el('th', { scope: 'col' }, h)))),
    el(
      'tbody',
      {},
      ...(used.length === 0
        ? [el('tr', {}, el('td', { colspan: '3', class: 'why' }, side === 'in' ? `No session came into ${state} in this window.` : `No session left ${state} for another state in this window.`))]
        : used.map((w) =>
            el(
              'tr',
              { 'data-way': w.id, 'data-other': w.other, 'data-count': String(w.count) },
              el('th', { scope: 'row' }, w.other, el('span', { class: 'on' }, ...breakable(w.event ?? 'eventless'))),
              el('td', { class: 'num' }, String(w.count)),
              el('td', { class: 'num' }, pct(w.share)),
            ),
          )),
    ),
  );
}

/** Draw `state`'s breakdown from `v` into `box` (`where`: the window, in words); returns it in one sentence. */
export function renderBreakdown(box: HTMLElement, v: TrafficView, state: RoomState, where: string): string {
  const w = waysOf(v, state);
  const f = v.figures[state];
  const s = v.states.find((x) => x.state === state);
  const t = f.timeSpent;
  const time = t.count === 0 ? 'no visit left it in this window' : `mean ${seconds(t.meanSeconds)} · p50 ${seconds(t.p50)} · p90 ${seconds(t.p90)} (${t.count} visit${t.count === 1 ? '' : 's'})`;
  const ended = w.ended.map((e) => `${e.count} ${e.reason}`).join(', ');
  box.replaceChildren(
    el('h3', { id: 'breakdown-title' }, `Breakdown of ${state}, ${where}`),
    el('p', { 'data-testid': 'breakdown-entered', 'data-entered': String(f.entered) }, `Entered ${f.entered} time${f.entered === 1 ? '' : 's'}; ${s?.sessions ?? 0} open in it now; ${s?.reached ?? 0} sessions started in the window reached it.`),
    el('p', { 'data-testid': 'breakdown-time', 'data-visits': String(t.count) }, `Time spent: ${time}.`),
    waysTable('in', state, w.in),
    // The drawn edges count every transition through the state, also one that settled straight on (eventless).
    ...(total(w.in) > f.entered && state !== 'init' ? [el('p', { class: 'why' }, `More ways in than entries: ${total(w.in) - f.entered} of those transitions went straight on through ${state} (an eventless step), so no session was seen in it.`)] : []),
    waysTable('out', state, w.out),
    el('p', { 'data-testid': 'breakdown-ended' }, ended ? `Ended in ${state}: ${ended}.` : `No session ended in ${state} in this window.`),
    el('h4', { id: 'breakdown-examples-title' }, 'Example sessions (most recent first)'),
    f.exampleSessions.length === 0
      ? el('p', { class: 'why' }, 'None entered it in this window.')
      : el(
          'ul',
          { class: 'examples', 'data-testid': 'breakdown-examples', 'aria-labelledby': 'breakdown-examples-title' },
          ...f.exampleSessions.map((id) =>
            el('li', {}, el('button', { type: 'button', 'data-session': id, 'data-state': state, 'data-testid': 'breakdown-replay', title: `Replay session ${id} from the step it entered ${state}` }, `Replay session ${short(id)}`)),
          ),
        ),
  );
  return `${state}: entered ${f.entered} times; time spent ${time}; ${total(w.in)} transitions in, ${waysOutText(w)}${ended ? `; ended here: ${ended}` : ''}.`;
}
