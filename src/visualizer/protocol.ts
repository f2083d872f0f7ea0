// The live protocol: JSON text messages over WebSocket.
// Inspector -> server on `/inspect`: start, step, stop. Server -> page on `/watch`: a `sessions` dump, then the same
// messages as they arrive. Only event types, state names and counters travel: never context or event payloads.
import { ROOM_COUNTERS, type RoomCounters } from '../../machines/domain';
import { textProblem } from '../text';
import type { Observed } from './scenario';

export const INSPECT_PATH = '/inspect';
export const WATCH_PATH = '/watch';

/**
 * The subprotocols that carry an admin token to the relay (a browser cannot set headers on a WebSocket):
 * `loop-room-state` and `bearer.<base64url(token)>` (server side: visualizer/server.ts).
 */
export function relayProtocols(token: string): string[] {
  const bytes = new TextEncoder().encode(token);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return ['loop-room-state', `bearer.${btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`];
}
/** Limits the server enforces (and the inspector respects) so a runaway session cannot exhaust memory. */
export const LIMITS = { maxMessageBytes: 16 * 1024, maxName: 200, maxSessions: 200, maxStepsPerSession: 10_000 } as const;

export interface Snap extends RoomCounters {
  state: string;
}
export type StartMessage = { type: 'start'; session: string; label: string } & Snap;
export type StepMessage = { type: 'step'; session: string; event: string } & Snap;
export type StopMessage = { type: 'stop'; session: string };
export type InspectorMessage = StartMessage | StepMessage | StopMessage;

export interface LiveSession {
  session: string;
  label: string;
  start: Snap;
  steps: Array<{ event: string } & Snap>;
  stopped: boolean;
  /** Set when the session passed LIMITS.maxStepsPerSession: later steps were not kept (the page says so). */
  overflow: boolean;
}
export type WatchMessage = { type: 'sessions'; sessions: LiveSession[] } | InspectorMessage | { type: 'overflow'; session: string };

/** Validate one inspector message; returns the message or a reason it was refused. */
export function parseInspectorMessage(text: string): InspectorMessage | { error: string } {
  if (text.length > LIMITS.maxMessageBytes) return { error: 'message too large' };
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return { error: 'message is not JSON' };
  }
  return checkInspectorMessage(m);
}

/** Validate an already-parsed inspector message (the page also checks what the server relays with this). */
export function checkInspectorMessage(m: unknown): InspectorMessage | { error: string } {
  if (typeof m !== 'object' || m === null) return { error: 'message is not an object' };
  const o = m as Record<string, unknown>;
  if (!isName(o.session)) return { error: '"session" must be a non-empty string' };
  if (o.type === 'stop') return { type: 'stop', session: o.session };
  if (o.type !== 'start' && o.type !== 'step') return { error: '"type" must be start, step or stop' };
  if (!isName(o.state)) return { error: '"state" must be a non-empty string' };
  for (const c of ROOM_COUNTERS) if (!isCount(o[c])) return { error: `"${c}" must be a non-negative integer` };
  const snap: Snap = { state: o.state, connections: o.connections as number, sendStreams: o.sendStreams as number, recvStreams: o.recvStreams as number };
  if (o.type === 'start') {
    if (!isName(o.label)) return { error: '"label" must be a non-empty string without control characters' };
    return { type: 'start', session: o.session, label: o.label, ...snap };
  }
  if (!isName(o.event)) return { error: '"event" must be a non-empty string' };
  return { type: 'step', session: o.session, event: o.event, ...snap };
}

/** As the API's names (server spec section 7): no control characters, no unpaired surrogates. */
const isName = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length <= LIMITS.maxName && textProblem(x) === undefined;
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;

/** A live session as a scenario: its events, and what it reported for each (accepted = its counters changed). */
export function liveTrack(s: LiveSession): { events: string[]; observed: Observed[] } {
  let prev: RoomCounters = s.start;
  const observed = s.steps.map((st) => {
    const accepted = ROOM_COUNTERS.some((c) => st[c] !== prev[c]);
    prev = st;
    return { accepted, state: st.state, connections: st.connections, sendStreams: st.sendStreams, recvStreams: st.recvStreams };
  });
  return { events: s.steps.map((st) => st.event), observed };
}

/**
 * Fold one message into the session list (server and page keep the same list).
 * 'overflow': this step passed the limit (tell the watchers once); 'dropped': a later one, not kept.
 */
export function applyMessage(
  sessions: Map<string, LiveSession>,
  m: InspectorMessage,
): 'ok' | 'overflow' | 'dropped' | 'unknown-session' | 'too-many-sessions' {
  if (m.type === 'start') {
    if (!sessions.has(m.session) && sessions.size >= LIMITS.maxSessions && !evictStopped(sessions)) return 'too-many-sessions';
    const { type: _t, session, label, ...snap } = m;
    sessions.set(session, { session, label, start: snap, steps: [], stopped: false, overflow: false });
    return 'ok';
  }
  const s = sessions.get(m.session);
  if (!s) return 'unknown-session';
  if (m.type === 'stop') {
    s.stopped = true;
    return 'ok';
  }
  if (s.steps.length >= LIMITS.maxStepsPerSession) {
    const first = !s.overflow;
    s.overflow = true;
    return first ? 'overflow' : 'dropped';
  }
  const { type: _t, session: _s, ...step } = m;
  s.steps.push(step);
  return 'ok';
}

/** Validate the server's `sessions` dump, session by session, through the same checks as live messages. */
export function checkSessions(list: unknown): LiveSession[] | { error: string } {
  if (!Array.isArray(list)) return { error: '"sessions" must be an array' };
  const out = new Map<string, LiveSession>();
  for (const raw of list) {
    const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const start = checkInspectorMessage({ ...(o.start as object), type: 'start', session: o.session, label: o.label });
    if ('error' in start) return start;
    applyMessage(out, start);
    for (const st of Array.isArray(o.steps) ? o.steps : []) {
      const step = checkInspectorMessage({ ...(st as object), type: 'step', session: o.session });
      if ('error' in step) return step;
      applyMessage(out, step);
    }
    const s = out.get(start.session) as LiveSession;
    s.stopped = o.stopped === true;
    s.overflow = s.overflow || o.overflow === true;
  }
  return [...out.values()];
}

function evictStopped(sessions: Map<string, LiveSession>): boolean {
  for (const [id, s] of sessions) {
    if (s.stopped) {
      sessions.delete(id);
      return true;
    }
  }
  return false;
}
