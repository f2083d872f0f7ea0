// The details panel: what an edge or a state of the diagram means, from the machine's candidates.
import type { RoomState } from '../../../machines/domain';
import { allCandidates } from '../../model/candidates';
import type { DiagramEdge } from '../../model/diagramEdges';
import type { ScenarioView } from '../scenario';
import { EDGES, groupName } from './diagram';
import type { EdgeGroup } from './edgeGroups';
import { el } from './dom';
import { counterChangeWords, guardCondition, ORIGIN_WORDS, STATE_MEANING } from './explain';
import { rejectionSummary } from './tables';

const row = (term: string, ...value: Array<Node | string>) => [el('dt', {}, term), el('dd', {}, ...value)];

export function edgeDetails(box: HTMLElement, e: DiagramEdge, view: ScenarioView, available: boolean): string {
  const c = e.candidate;
  const last = view.steps[view.steps.length - 1];
  const took = last?.taken.includes(c.id) ? `; taken by the last step (${last.n})` : '';
  const status = (available
    ? `available now${e.event ? ': click it or press Enter to send the event' : ': the event that enters ' + e.from + ' settles through it'}`
    : view.state === e.from
      ? 'not available now: its guard does not hold on the current counters'
      : `not available now: the current state is ${view.state}`) + took;
  box.replaceChildren(
    el('h3', { id: 'details-title' }, `${e.from} → ${e.to}`),
    el(
      'dl',
      { class: 'facts' },
      ...row('event', e.event ?? 'none: eventless (taken right after entering the state)'),
      ...row('guard', e.guard ? el('code', {}, e.guard) : 'none: always taken', ...(e.guard ? [el('br'), guardCondition(e.guard, c.event)] : [])),
      ...row('counter change', counterChangeWords(c)),
      ...row('target', e.to),
      ...row('origin', ORIGIN_WORDS[e.origin]),
      ...row('now', status),
    ),
  );
  box.dataset.kind = 'edge';
  box.dataset.subject = e.id;
  return `${e.from} to ${e.to}${e.event ? ` on ${e.event}` : ', eventless'}${e.guard ? ` if ${guardCondition(e.guard, c.event)}` : ''}; ${status}`;
}

export function stateDetails(box: HTMLElement, state: RoomState, view: ScenarioView): string {
  const out = [...EDGES.values()].filter((e) => e.from === state);
  const own = allCandidates().filter((c) => c.state === state);
  const counts = own.filter((c) => c.kind === 'count');
  const rejects = own.filter((c) => c.kind === 'reject');
  box.replaceChildren(
    el('h3', { id: 'details-title' }, `${state}${view.state === state ? ' (current)' : ''}`),
    el('p', {}, STATE_MEANING[state]),
    el('h4', {}, 'Leaves for another state'),
    el(
      'ul',
      { 'data-testid': 'details-outgoing' },
      ...out.map((e) => el('li', {}, `${e.event ?? 'eventless'}${e.guard ? ` if ${guardCondition(e.guard, e.candidate.event)}` : ''} → ${e.to}`)),
    ),
    el('h4', {}, 'Only counts'),
    el(
      'ul',
      {},
      ...counts.map((c) => el('li', {}, `${c.event}${c.guard ? ` if ${guardCondition(c.guard, c.event)}` : c.index > 0 ? ' otherwise' : ''}: ${counterChangeWords(c)}`)),
    ),
    el('h4', {}, 'Rejects'),
    el('ul', { 'data-testid': 'details-rejects' }, ...rejectionSummary(rejects).map((t) => el('li', {}, t))),
  );
  box.dataset.kind = 'state';
  box.dataset.subject = state;
  return `${state}: ${STATE_MEANING[state]}; leaves on ${out.length} transitions, rejects ${rejects.length} cases`;
}

/** A line drawn for several edges (the frame's "last peer leaves"): each edge listed, with whether it can be taken now. */
export function groupDetails(box: HTMLElement, g: EdgeGroup, view: ScenarioView, available: ReadonlySet<string>): string {
  const guard = guardCondition(g.guard, g.event as DiagramEdge['candidate']['event']);
  const now = g.members.find((m) => available.has(m.candidate.id));
  box.replaceChildren(
    el('h3', { id: 'details-title' }, `any state in the call → ${g.to}`),
    el('p', {}, `One line for ${g.members.length} edges, one from each state in the frame: ${g.event} when ${guard}.`),
    el(
      'ul',
      { 'data-testid': 'details-members' },
      ...g.members.map((m) =>
        el('li', { 'data-member': m.id }, `${m.from} → ${m.to}: ${ORIGIN_WORDS[m.origin]}${m === now ? '; available now: click it or press Enter to send the event' : view.state === m.from ? '; not available now: its guard does not hold' : ''}`),
      ),
    ),
  );
  box.dataset.kind = 'edge';
  box.dataset.subject = g.id;
  return `${groupName(g)}: ${g.members.length} edges; ${now ? `available now from ${now.from}` : `not available now: the current state is ${view.state}`}`;
}
