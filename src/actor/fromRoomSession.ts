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

/**
 * Room-session actor logic: `createActor(fromRoomSession(options))`, or `invoke: { src: fromRoomSession(options) }`,
 * or `spawn(...)`. Starting the actor creates the session (joins, with `join`); sending it a room event feeds
 * the session; `{ type: 'room.leave' }` leaves, and the actor is done with the leave's result. Stopping the
 * actor (or its parent leaving the invoking state) leaves the room and stops the session. The options are
 * checked when the actor starts: a bad one is a TypeError there.
 */
export function fromRoomSession(options: Partial<RoomSessionOptions> = {}): RoomSessionLogic {
  const view = (session: RoomSession | undefined, base: RoomSessionActorSnapshot): RoomSessionActorSnapshot => {
    if (!session) return base;
    const s = session.getSnapshot();
    return { ...base, value: s.value, context: s.context, reporting: session.stats().reporting, room: session.room() };
  };
  return {
    config: options,
    getInitialSnapshot: (scope, input) => {
      inputs.set(scope.self, input);
      const s = initialRoomSnapshot();
      return { status: 'active', output: undefined, error: undefined, value: s.value, context: s.context, reporting: (input?.join ?? options.join) ? 'joining' : 'active', room: undefined };
    },
    start: (_snapshot, scope: ActorScope<RoomSessionActorSnapshot, RoomSessionActorEvent, AnyActorSystem, RoomSessionEmitted>) => {
      const { self, emit } = scope;
      const input = inputs.get(self);
      const session = createRoomSession({ ...options, ...input } as RoomSessionOptions);
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
    },
    transition: (snapshot, event, scope) => {
      const session = sessions.get(scope.self);
      if ((event as { type: string }).type === 'xstate.stop') {
        sessions.delete(scope.self);
        if (session) void session.leave().then(() => session.stop());
        return { ...view(session, snapshot), status: 'stopped', output: undefined, error: undefined };
      }
      if (!session || snapshot.status !== 'active') return snapshot;
      if (event.type === 'room.sync') return view(session, snapshot);
      if (event.type === 'room.leave') {
        void session.leave().then((result) => {
          session.stop();
          if (scope.self.getSnapshot().status === 'active') scope.self.send({ type: 'room.left', result } as never);
        });
        return view(session, snapshot);
      }
      if ((event as { type: string }).type === 'room.left') {
        sessions.delete(scope.self);
        return { ...view(session, snapshot), status: 'done', output: (event as unknown as { result: LeaveResult }).result, error: undefined };
      }
      session.send(event as never);
      return view(session, snapshot);
    },
    getPersistedSnapshot: (snapshot) => snapshot,
  };
}
