// loop-room-state/react: useRoomSession, one room session per mounted component. React is an optional peer
// of the package: only this entry imports it. Browser-safe, like the main entry.
import { useCallback, useEffect, useRef, useSyncExternalStore } from 'react';
import type { RoomCounters, RoomState } from '../../machines/domain';
import { initialRoomSnapshot, type CheckedEvent } from '../model/step';
import { createRoomSession, type LeaveResult, type RoomInfo, type RoomSession } from '../service/roomSession';
import type { RoomSessionOptions } from '../service/options';
import type { RoomSessionError } from '../transport/errors';

/** Where the component's participation stands: joining, joined (reporting), left, or reporting stopped by an error. */
export type RoomSessionStatus = 'joining' | 'joined' | 'left' | 'error';

/** What useRoomSession returns; re-rendered on every change. */
export interface UseRoomSession {
  status: RoomSessionStatus;
  /** The machine's state. */
  state: RoomState;
  counters: RoomCounters;
  /** Feed one SDK event (or its type alone); stable across renders. Events sent before the session starts wait for it. */
  send: <const E>(event: CheckedEvent<E>) => void;
  /** The room once joined (at once when `auth` was given). */
  room: RoomInfo | undefined;
  /** The last error event (a dropped report, reporting stopped, ...), if any. */
  error: RoomSessionError | undefined;
  /** Leave now (the session also leaves on unmount); stable across renders. */
  leave: () => Promise<LeaveResult | undefined>;
  /** The session itself (undefined before the first effect ran), for on(), stats(), flush(). */
  session: RoomSession | undefined;
}

/** useRoomSession's options: createRoomSession's (with `join` or `auth`). */
export type UseRoomSessionOptions = RoomSessionOptions;

interface View {
  status: RoomSessionStatus;
  state: RoomState;
  counters: RoomCounters;
  room: RoomInfo | undefined;
  error: RoomSessionError | undefined;
}

/** One mount's session, created by the first effect and kept through StrictMode's effect replay. */
class Holder {
  session: RoomSession | undefined;
  private view: View;
  private readonly listeners = new Set<() => void>();
  private readonly early: unknown[] = [];
  private release: ReturnType<typeof setTimeout> | undefined;
  private stopError: RoomSessionError | undefined;
  private lastError: RoomSessionError | undefined;

  constructor(joining: boolean) {
    const s = initialRoomSnapshot();
    this.view = { status: joining ? 'joining' : 'joined', state: s.value, counters: s.context, room: undefined, error: undefined };
  }

  subscribe = (fn: () => void) => {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  };
  getSnapshot = () => this.view;

  acquire(options: RoomSessionOptions): void {
    clearTimeout(this.release);
    this.release = undefined;
    if (this.session) return;
    const session = (this.session = createRoomSession(options));
    const update = () => this.update();
    session.subscribe(update);
    session.on('joined', update);
    session.on('error', (e) => {
      if (e.kind === 'stopped' && e.reason !== 'failed') this.stopError = e;
      this.lastError = e;
      update();
    });
    for (const e of this.early.splice(0)) session.send(e as never);
    update();
  }

  /** Unmount, or StrictMode's simulated one: leave unless the effect runs again at once. */
  releaseSoon(): void {
    clearTimeout(this.release);
    this.release = setTimeout(() => {
      const session = this.session;
      void session?.leave().then(() => {
        session.stop();
        this.update();
      });
    }, 0);
  }

  send(event: unknown): void {
    if (this.session) this.session.send(event as never);
    else this.early.push(event);
  }

  private update(): void {
    const session = this.session;
    if (!session) return;
    const s = session.getSnapshot();
    const reporting = session.stats().reporting;
    const status: RoomSessionStatus =
      this.stopError !== undefined ? 'error' : reporting === 'joining' ? 'joining' : reporting === 'left' || reporting === 'stopped' ? 'left' : 'joined';
    const v = this.view;
    const room = session.room();
    if (v.status === status && v.state === s.value && v.counters === s.context && v.room === room && v.error === this.lastError) return;
    this.view = { status, state: s.value, counters: s.context, room, error: this.lastError };
    for (const fn of [...this.listeners]) fn();
  }
}

/**
 * One room session for the component's lifetime: created (and joined, with `join`) when it mounts, once even
 * under StrictMode's double effects; every accepted event sent through `send` is reported; the session leaves
 * when the component unmounts (and when the page goes away, with `leaveOnPageHide: true`). The options of
 * the first render are used; to change room, give the component a new `key`.
 */
export function useRoomSession(options: UseRoomSessionOptions): UseRoomSession {
  const holder = useRef<Holder | null>(null);
  if (holder.current === null) holder.current = new Holder(options.join !== undefined);
  const h = holder.current;
  const first = useRef(options);
  useEffect(() => {
    h.acquire(first.current);
    return () => h.releaseSoon();
  }, [h]);
  const view = useSyncExternalStore(h.subscribe, h.getSnapshot, h.getSnapshot);
  const send = useCallback((event: unknown) => h.send(event), [h]) as UseRoomSession['send'];
  const leave = useCallback(async () => h.session?.leave(), [h]);
  return { ...view, send, leave, session: h.session };
}
