// fromRoomSession: a room session as XState actor logic, so an app's own machine can invoke or spawn it
// (or createActor run it). Each actor owns one session; its snapshot mirrors the session's state.
import type { ActorLogic, ActorScope, ActorSystem, Snapshot } from 'xstate';
import type { RoomCounters, RoomEvent, RoomState } from '../../machines/domain';
import { initialRoomSnapshot } from '../model/step';
import { createRoomSession, type LeaveResult, type ReportingState, type RoomInfo, type RoomSession, type RoomSessionEvents } from '../service/roomSession';
import type { RoomSessionOptions } from '../service/options';

/**
 * The actor's snapshot: XState's status (`done` once the session has left, with the leave's result as
 * `output`), the room-session machine's `value` and `context` (counters), and where reporting stands.
 */
export type RoomSessionActorSnapshot = Snapshot<LeaveResult> & {
  value: RoomState;
  context: RoomCounters;
  reporting: ReportingState;
  room: RoomInfo | undefined;
};

/** What the actor takes: the room's events, or `room.leave` (leave the room; the actor is then done). */
export type RoomSessionActorEvent = RoomEvent | { type: 'room.leave' } | { type: 'room.sync' };

/** What the actor emits (listen with actorRef.on): the session's events, each with its `type`. */
export type RoomSessionEmitted =
  | ({ type: 'report' } & RoomSessionEvents['report'])
  | RoomSessionEvents['anomaly']
  | RoomSessionEvents['error']
  | RoomSessionEvents['idle']
  | ({ type: 'joined' } & RoomSessionEvents['joined']);

/** The actor logic fromRoomSession returns. Its input (createActor's `input`, invoke's `input`) is merged over the options. */
export type RoomSessionLogic = ActorLogic<RoomSessionActorSnapshot, RoomSessionActorEvent, Partial<RoomSessionOptions> | undefined, AnyActorSystem, RoomSessionEmitted>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyActorSystem = ActorSystem<any>;

const sessions = new WeakMap<object, RoomSession>();
const inputs = new WeakMap<object, Partial<RoomSessionOptions> | undefined>();
// An actor whose session waits for an earlier leave (below): its start (a restart makes a new one) and the
// events sent meanwhile, delivered once the session exists.
const waiting = new WeakMap<object, { events: RoomSessionActorEvent[] }>();
// The last leave still in flight per room (serverUrl + roomToken), from actors of this page that joined:
// a new joining actor in that room waits for it, or the server, which keeps a spot for the absent owner,
// may find the room full (StrictMode's stop and restart, a remount).
const leaving = new Map<string, Promise<unknown>>();
const roomKey = (o: Partial<RoomSessionOptions>) => (o.join ? `${String(o.serverUrl)} ${String(o.roomToken)}` : undefined);
function trackLeave(key: string | undefined, left: Promise<unknown>): void {
  if (key === undefined) return;
  const settled = left.then(
    () => undefined,
    () => undefined,
  );
  leaving.set(key, settled);
  void settled.then(() => leaving.get(key) === settled && leaving.delete(key));
}

// The logic's `config`: one object for every fromRoomSession() call. @xstate/react's useActorRef makes a new
// actor whenever `config` changes (meant for hot reload), so options (a new object each render) there
// would loop forever; nor should an inspector that shows `config` see tokens or credentials.
const CONFIG = Object.freeze({ logic: 'fromRoomSession' });

/**
 * Room-session actor logic: `createActor(fromRoomSession(options))`, or `invoke: { src: fromRoomSession(options) }`,
 * or `spawn(...)`. Starting the actor creates the session (joins, with `join`); sending it a room event feeds
 * the session; `{ type: 'room.leave' }` leaves, and the actor is done with the leave's result. Stopping the
 * actor (or its parent leaving the invoking state) leaves the room and stops the session. The options are
 * checked when the actor starts: a bad one is a TypeError there. A joining actor in a room that an earlier
 * actor of this page is still leaving joins once that leave is done.
 */
export function fromRoomSession(options: Partial<RoomSessionOptions> = {}): RoomSessionLogic {
  const view = (session: RoomSession | undefined, base: RoomSessionActorSnapshot): RoomSessionActorSnapshot => {
    if (!session) return base;
    const s = session.getSnapshot();
    return { ...base, value: s.value, context: s.context, reporting: session.stats().reporting, room: session.room() };
  };
  const open = (scope: ActorScope<RoomSessionActorSnapshot, RoomSessionActorEvent, AnyActorSystem, RoomSessionEmitted>, merged: RoomSessionOptions): RoomSession => {
    const { self, emit } = scope;
    const session = createRoomSession(merged);
    sessions.set(self, session);
    const sync = () => {
      if (self.getSnapshot().status === 'active') self.send({ type: 'room.sync' });
    };
    session.on('report', (r) => emit({ type: 'report', ...r }));
    session.on('anomaly', (a) => emit(a));
    session.on('idle', (i) => emit(i));
    session.on('joined', (room) => {
      emit({ type: 'joined', ...room });
      sync();
    });
    session.on('error', (e) => {
      emit(e);
      if (e.kind === 'stopped') sync();
    });
    return session;
  };
  return {
    config: CONFIG,
    getInitialSnapshot: (scope, input) => {
      inputs.set(scope.self, input);
      const s = initialRoomSnapshot();
      return { status: 'active', output: undefined, error: undefined, value: s.value, context: s.context, reporting: (input?.join ?? options.join) ? 'joining' : 'active', room: undefined };
    },
    start: (_snapshot, scope) => {
      const { self } = scope;
      const merged = { ...options, ...inputs.get(self) } as RoomSessionOptions;
      const before = leaving.get(roomKey(merged) as string);
      if (!before) {
        open(scope, merged);
        return;
      }
      const wait = { events: [] as RoomSessionActorEvent[] };
      waiting.set(self, wait);
      void before.then(() => {
        // Stopped, or restarted (a newer wait), meanwhile.
        if (waiting.get(self) !== wait) return;
        waiting.delete(self);
        let session: RoomSession;
        try {
          session = open(scope, merged);
        } catch (error) {
          self.send({ type: 'room.failed', error } as never);
          return;
        }
        for (const e of wait.events) self.send(e);
        if (session.stats().reporting !== 'joining') self.send({ type: 'room.sync' });
      });
    },
    transition: (snapshot, event, scope) => {
      const session = sessions.get(scope.self);
      const type = (event as { type: string }).type;
      if (type === 'xstate.stop') {
        sessions.delete(scope.self);
        waiting.delete(scope.self);
        if (session) {
          const left = session.leave();
          trackLeave(roomKey({ ...options, ...inputs.get(scope.self) }), left);
          void left.then(() => session.stop());
        }
        return { ...view(session, snapshot), status: 'stopped', output: undefined, error: undefined };
      }
      if (snapshot.status !== 'active') return snapshot;
      // A bad option found when a waiting session was created: as a start's TypeError.
      if (type === 'room.failed') return { ...snapshot, status: 'error', error: (event as unknown as { error: unknown }).error };
      if (!session) {
        waiting.get(scope.self)?.events.push(event);
        return snapshot;
      }
      if (event.type === 'room.sync') return view(session, snapshot);
      if (event.type === 'room.leave') {
        const left = session.leave();
        trackLeave(roomKey({ ...options, ...inputs.get(scope.self) }), left);
        void left.then((result) => {
          session.stop();
          if (scope.self.getSnapshot().status === 'active') scope.self.send({ type: 'room.left', result } as never);
        });
        return view(session, snapshot);
      }
      if (type === 'room.left') {
        sessions.delete(scope.self);
        return { ...view(session, snapshot), status: 'done', output: (event as unknown as { result: LeaveResult }).result, error: undefined };
      }
      session.send(event as never);
      return view(session, snapshot);
    },
    getPersistedSnapshot: (snapshot) => snapshot,
  };
}
