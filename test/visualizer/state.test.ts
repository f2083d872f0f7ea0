// The page's reducer, in Node: every mode and the timeline change the page only through it.
import { initialState, reduce, currentOf, timelineOf, type Action, type PageState } from '../../src/visualizer/page/state';
import type { LiveSession } from '../../src/visualizer/protocol';
import type { ReplayTrack } from '../../src/visualizer/replay';

const J = 'Session.connectionCreated';
const L = 'Session.connectionDestroyed';
const P = 'Publisher.streamCreated';

const run = (s: PageState, ...actions: Action[]) => actions.reduce(reduce, s);
const track = (id: string, events: string[]): ReplayTrack => ({ id, description: '', events, observed: events.map(() => ({})) });
const session = (id: string, events: string[]): LiveSession => ({
  session: id,
  label: id,
  start: { state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 },
  steps: events.map((event) => ({ event, state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 })),
  stopped: false,
  overflow: false,
});

describe('page state', () => {
  it('explore: send appends, undo drops the last step, reset empties; the URL scenario is what is shown', () => {
    let s = run(initialState(), { type: 'send', event: J }, { type: 'send', event: J }, { type: 'send', event: P });
    expect(currentOf(s).events).toEqual([J, J, P]);
    s = reduce(s, { type: 'undo' });
    expect(currentOf(s).events).toEqual([J, J]);
    expect(run(s, { type: 'reset' }).explore).toEqual([]);
    expect(reduce(initialState(), { type: 'undo' })).toMatchObject({ explore: [], exploreAt: 0 });
  });

  it('the timeline steps explore back without losing the later steps; a new event from there drops them', () => {
    const s = run(initialState([J, J, P]), { type: 'step', to: 'prev' }, { type: 'step', to: 'prev' });
    expect(timelineOf(s)).toEqual({ events: [J, J, P], at: 1 });
    expect(currentOf(s).events).toEqual([J]);
    expect(timelineOf(reduce(s, { type: 'step', to: 'last' })).at).toBe(3);
    expect(timelineOf(reduce(s, { type: 'step', to: 99 })).at).toBe(3);
    expect(timelineOf(reduce(s, { type: 'step', to: -4 })).at).toBe(0);
    expect(reduce(s, { type: 'send', event: L }).explore).toEqual([J, L]);
  });

  it('replay: loads at a step with a flag, steps within the track, forks to explore from what is shown', () => {
    const tracks = [track('a', [J, J, P, L]), track('b', [J])];
    let s = reduce(initialState([P]), { type: 'replay', tracks, at: 3, flag: { step: 3, text: 'wrong' } });
    expect(s).toMatchObject({ mode: 'replay', scenario: 'replay', position: 3, flag: { step: 3 } });
    expect(currentOf(s).events).toEqual([J, J, P]);
    s = run(s, { type: 'step', to: 'next' }, { type: 'step', to: 'next' });
    expect(s.position).toBe(4);
    expect(run(s, { type: 'step', to: 'first' }).position).toBe(0);
    // Choosing another track starts it from its beginning, without the other track's flag.
    expect(reduce(s, { type: 'track', track: 1 })).toMatchObject({ track: 1, position: 0, flag: undefined });
    expect(reduce(s, { type: 'track', track: 7 })).toBe(s);
    // An event forks explore from the replay's current step.
    const f = reduce(reduce(s, { type: 'step', to: 2 }), { type: 'send', event: L });
    expect(f).toMatchObject({ mode: 'explore', scenario: 'explore', explore: [J, J, L], exploreAt: 3 });
    // Replay's own buttons from explore start the track from its beginning.
    expect(reduce(f, { type: 'step', to: 'next', in: 'replay' })).toMatchObject({ scenario: 'replay', position: 1 });
    expect(reduce(initialState(), { type: 'step', to: 'next', in: 'replay' })).toMatchObject({ scenario: 'explore' });
  });

  it('live: follows the newest step until stepped back, then stays there as the session grows', () => {
    let s = run(initialState(), { type: 'sessions', sessions: new Map([['x', session('x', [J, J])]]) }, { type: 'follow', session: 'x' });
    expect(timelineOf(s).at).toBe(2);
    s = reduce(s, { type: 'step', to: 'prev' });
    s = reduce(s, { type: 'sessions', sessions: new Map([['x', session('x', [J, J, P])]]) });
    expect(timelineOf(s)).toMatchObject({ events: [J, J, P], at: 1 });
    s = reduce(s, { type: 'step', to: 'last' });
    expect(s.liveAt).toBeUndefined();
    s = reduce(s, { type: 'sessions', sessions: new Map([['x', session('x', [J, J, P, L])]]) });
    expect(timelineOf(s).at).toBe(4);
  });

  it('traffic is a mode of its own over the scenario it was entered from; stepping or sending leaves it', () => {
    const tracks = [track('a', [J, J])];
    let s = run(initialState(), { type: 'replay', tracks, at: 1 }, { type: 'traffic', on: true });
    expect(s).toMatchObject({ mode: 'traffic', scenario: 'replay' });
    expect(currentOf(s).events).toEqual([J]);
    expect(reduce(s, { type: 'traffic', on: false })).toMatchObject({ mode: 'replay' });
    expect(reduce(s, { type: 'step', to: 'next' })).toMatchObject({ mode: 'replay', position: 2 });
    expect(reduce(s, { type: 'send', event: L })).toMatchObject({ mode: 'explore', explore: [J, L] });
    s = run(initialState(), { type: 'traffic', on: true }, { type: 'traffic', on: true });
    expect(reduce(s, { type: 'traffic', on: false }).mode).toBe('explore');
    // A replay opened from traffic (a non-conformance row) leaves traffic for replay.
    expect(reduce(s, { type: 'replay', tracks })).toMatchObject({ mode: 'replay', scenario: 'replay' });
  });

  it("traffic's comparison: on and off in the state, kept across leaving the mode; chosen ranges must each end after they start", () => {
    const hour = { preset: 'hour' as const };
    let s = run(initialState(), { type: 'traffic', on: true }, { type: 'compare', compare: hour });
    expect(s).toMatchObject({ mode: 'traffic', compare: hour });
    // Leaving traffic and coming back finds the comparison as it was; explore underneath is untouched.
    s = run(s, { type: 'traffic', on: false }, { type: 'traffic', on: true });
    expect(s).toMatchObject({ mode: 'traffic', compare: hour, explore: [] });
    const a = { since: '2026-12-01T10:00:00.000Z', until: '2026-12-01T11:00:00.000Z' };
    const b = { since: '2026-12-02T10:00:00.000Z', until: '2026-12-02T11:00:00.000Z' };
    s = reduce(s, { type: 'compare', compare: { preset: 'ranges', before: a, after: b } });
    expect(s.compare).toEqual({ preset: 'ranges', before: a, after: b });
    // A range that ends before it starts (or is not a time) changes nothing.
    expect(reduce(s, { type: 'compare', compare: { preset: 'ranges', before: a, after: { since: b.until, until: b.since } } })).toBe(s);
    expect(reduce(s, { type: 'compare', compare: { preset: 'ranges', before: { since: 'then', until: a.until }, after: b } })).toBe(s);
    expect(reduce(s, { type: 'compare' }).compare).toBeUndefined();
    // Choosing a state in traffic mode is a selection like any other (its breakdown is drawn from it).
    expect(reduce(s, { type: 'select', details: { kind: 'state', id: 'starting' } })).toMatchObject({ mode: 'traffic', details: { kind: 'state', id: 'starting' } });
  });

  it('a link loaded into the page is explore mode, whatever was shown', () => {
    const s = run(initialState(), { type: 'replay', tracks: [track('a', [J])] }, { type: 'fragment', events: [J, P] });
    expect(s).toMatchObject({ mode: 'explore', scenario: 'explore', explore: [J, P], exploreAt: 2 });
  });
});
