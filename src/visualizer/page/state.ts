// The page's state and every change to it: one pure reducer that every mode (explore, live, replay, traffic) and the
// timeline go through. No DOM: tested in Node (test/visualizer/state.test.ts); main.ts dispatches and draws.
import { liveTrack, type LiveSession } from '../protocol';
import type { ReplayTrack } from '../replay';
import type { Observed } from '../scenario';
import { validRange, type Comparison } from '../trafficCompare';

export type Mode = 'explore' | 'live' | 'replay' | 'traffic';
/** The modes that show a scenario (traffic shows counts over the scenario it was entered from). */
export type ScenarioMode = Exclude<Mode, 'traffic'>;

/** A replayed step the server judged wrong (a traffic non-conformance row), with the server's words. */
export interface Flag {
  step: number;
  text: string;
}

export interface PageState {
  mode: Mode;
  /** Whose scenario the timeline, the log and the highlights show: the mode itself, or in traffic the mode before. */
  scenario: ScenarioMode;
  explore: readonly string[];
  /** Explore's current step: the timeline steps back without dropping the later events (a new event drops them). */
  exploreAt: number;
  tracks: readonly ReplayTrack[];
  track: number;
  /** Replay's current step (0: before the first). */
  position: number;
  sessions: ReadonlyMap<string, LiveSession>;
  following?: string;
  /** The followed session's step the user stepped back to; undefined: its newest (the view follows it). */
  liveAt?: number;
  flag?: Flag;
  /** What the details panel shows: an edge id or a state. */
  details?: { kind: 'edge' | 'state'; id: string };
  /** Traffic's comparison of two windows, while it is on (kept when the mode is left, back on re-entering it). */
  compare?: Comparison;
}

export type Step = 'first' | 'prev' | 'next' | 'last' | number;

export type Action =
  | { type: 'send'; event: string }
  | { type: 'undo' }
  | { type: 'reset' }
  | { type: 'explore-here' }
  | { type: 'fragment'; events: readonly string[] }
  | { type: 'replay'; tracks: readonly ReplayTrack[]; at?: number; flag?: Flag }
  | { type: 'track'; track: number }
  /** Step the shown scenario, or `in` another one (from its start, as replay's own buttons do from explore). */
  | { type: 'step'; to: Step; in?: ScenarioMode }
  | { type: 'follow'; session: string }
  | { type: 'sessions'; sessions: ReadonlyMap<string, LiveSession> }
  | { type: 'traffic'; on: boolean }
  | { type: 'select'; details: PageState['details'] }
  /** Compare two traffic windows (undefined: off); two chosen ranges each need since before until. */
  | { type: 'compare'; compare?: Comparison };

export function initialState(explore: readonly string[] = []): PageState {
  return { mode: 'explore', scenario: 'explore', explore, exploreAt: explore.length, tracks: [], track: 0, position: 0, sessions: new Map() };
}

/** The whole scenario the timeline shows (every step, also those after the current one) and the current step. */
export function timelineOf(s: PageState): { events: readonly string[]; observed?: readonly Observed[]; at: number } {
  if (s.scenario === 'replay' && s.tracks.length > 0) {
    const t = s.tracks[s.track];
    return { events: t.events, observed: t.observed, at: s.position };
  }
  if (s.scenario === 'live') {
    const live = s.following ? s.sessions.get(s.following) : undefined;
    const t = live ? liveTrack(live) : { events: [], observed: [] };
    return { ...t, at: s.liveAt === undefined ? t.events.length : Math.min(s.liveAt, t.events.length) };
  }
  return { events: s.explore, at: s.exploreAt };
}

/** The scenario up to the current step: what the diagram, the counters and the log show. */
export function currentOf(s: PageState): { events: string[]; observed?: Observed[] } {
  const t = timelineOf(s);
  return { events: t.events.slice(0, t.at), ...(t.observed ? { observed: t.observed.slice(0, t.at) } : {}) };
}

/** Explore from what is shown now (replay or live up to its current step); explore itself keeps its later steps. */
function fork(s: PageState): PageState {
  if (s.scenario === 'explore') return { ...s, mode: 'explore' };
  const events = currentOf(s).events;
  return { ...s, mode: 'explore', scenario: 'explore', explore: events, exploreAt: events.length };
}

const clamp = (n: number, max: number) => Math.max(0, Math.min(max, n));

function target(to: Step, at: number, max: number): number {
  if (to === 'first') return 0;
  if (to === 'last') return max;
  if (to === 'prev') return clamp(at - 1, max);
  if (to === 'next') return clamp(at + 1, max);
  return clamp(Math.trunc(to), max);
}

export function reduce(s: PageState, a: Action): PageState {
  switch (a.type) {
    case 'send': {
      const f = fork(s);
      const explore = [...f.explore.slice(0, f.exploreAt), a.event];
      return { ...f, explore, exploreAt: explore.length };
    }
    case 'undo': {
      const f = fork(s);
      if (f.exploreAt === 0) return f;
      const explore = f.explore.slice(0, f.exploreAt - 1);
      return { ...f, explore, exploreAt: explore.length };
    }
    case 'reset':
      return { ...fork(s), explore: [], exploreAt: 0 };
    case 'explore-here':
      return fork(s);
    case 'fragment':
      return { ...s, mode: 'explore', scenario: 'explore', explore: [...a.events], exploreAt: a.events.length };
    case 'replay': {
      const first = a.tracks[0]?.events.length ?? 0;
      return {
        ...s,
        mode: 'replay',
        scenario: 'replay',
        tracks: a.tracks,
        track: 0,
        position: clamp(a.at ?? 0, first),
        flag: a.flag,
      };
    }
    case 'track':
      if (a.track < 0 || a.track >= s.tracks.length) return s;
      return { ...s, mode: 'replay', scenario: 'replay', track: a.track, position: 0, flag: undefined };
    case 'step': {
      if (a.in && a.in !== s.scenario) {
        if (a.in === 'replay' && s.tracks.length === 0) return s;
        if (a.in === 'live' && !s.following) return s;
        const from = a.in === 'replay' ? { position: 0 } : a.in === 'live' ? { liveAt: 0 } : {};
        return reduce({ ...s, ...from, scenario: a.in }, { type: 'step', to: a.to });
      }
      const t = timelineOf(s);
      const at = target(a.to, t.at, t.events.length);
      const mode = s.scenario; // stepping shows the scenario: it leaves traffic mode
      if (s.scenario === 'replay') return { ...s, mode, position: at };
      if (s.scenario === 'live') return { ...s, mode, liveAt: at === t.events.length ? undefined : at };
      return { ...s, mode, exploreAt: at };
    }
    case 'follow':
      return { ...s, mode: 'live', scenario: 'live', following: a.session, liveAt: undefined };
    case 'sessions':
      return { ...s, sessions: a.sessions };
    case 'traffic':
      if (a.on) return s.mode === 'traffic' ? s : { ...s, mode: 'traffic' };
      return s.mode === 'traffic' ? { ...s, mode: s.scenario } : s;
    case 'select':
      return { ...s, details: a.details };
    case 'compare': {
      const c = a.compare;
      if (c?.preset === 'ranges' && !(validRange(c.before) && validRange(c.after))) return s;
      return { ...s, compare: c };
    }
  }
}
