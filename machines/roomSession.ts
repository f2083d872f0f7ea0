import { assign, emit, setup } from 'xstate';
import { COUNTING, ZERO_COUNTERS, type RoomAnomaly, type RoomCounters, type RoomEvent, type RoomEventType } from './domain';

/** The counting actions, each named for what it does, and the event whose counting it is (spec section 1). */
export const COUNTING_ACTIONS = {
  countConnection: 'Session.connectionCreated',
  uncountConnection: 'Session.connectionDestroyed',
  countRecvStream: 'Session.streamCreated',
  uncountRecvStream: 'Session.streamDestroyed',
  countSendStream: 'Publisher.streamCreated',
  uncountSendStream: 'Publisher.streamDestroyed',
} as const satisfies Record<string, RoomEventType>;

/** The rejecting actions and the anomaly reason each emits. */
export const REJECTING_ACTIONS = {
  rejectCounterUnderflow: 'counter-underflow',
  rejectUnknownEvent: 'unknown-event',
} as const satisfies Record<string, RoomAnomaly['reason']>;

const countingFor = (type: RoomEventType) => {
  const { counter, delta } = COUNTING[type];
  return ({ context }: { context: RoomCounters }): Partial<RoomCounters> => ({ [counter]: context[counter] + delta });
};

/**
 * The room-session statechart (spec sections 3 and 4).
 *
 * Read the root `on` as rule 4.1 ("counting always happens"): in any state an
 * event only counts, unless the state lists its own transition for it; a
 * decrement below zero and an unknown event type are rejected (an `anomaly` is
 * emitted, nothing else changes). Each state then lists the diagram's edges.
 *
 * Guards test the counters before the event's decrement (XState runs guards
 * before actions), so "send count = 0 after" is `isLastSendStream`.
 */
export const roomSessionMachine = setup({
  types: {
    context: {} as RoomCounters,
    events: {} as RoomEvent,
    emitted: {} as RoomAnomaly,
  },
  guards: {
    // rejections (4.1)
    connectionsIsZero: ({ context }) => context.connections === 0,
    sendStreamsIsZero: ({ context }) => context.sendStreams === 0,
    recvStreamsIsZero: ({ context }) => context.recvStreams === 0,
    // the diagram's guards, asked before the decrement
    isLastPeerConnection: ({ context }) => context.connections === 2,
    isLastSendStream: ({ context }) => context.sendStreams === 1,
    isLastRecvStream: ({ context }) => context.recvStreams === 1,
    // settling out of `starting` (4.3)
    hasSendAndRecvStreams: ({ context }) => context.sendStreams > 0 && context.recvStreams > 0,
    hasSendStreams: ({ context }) => context.sendStreams > 0,
    hasRecvStreams: ({ context }) => context.recvStreams > 0,
  },
  actions: {
    countConnection: assign(countingFor(COUNTING_ACTIONS.countConnection)),
    uncountConnection: assign(countingFor(COUNTING_ACTIONS.uncountConnection)),
    countRecvStream: assign(countingFor(COUNTING_ACTIONS.countRecvStream)),
    uncountRecvStream: assign(countingFor(COUNTING_ACTIONS.uncountRecvStream)),
    countSendStream: assign(countingFor(COUNTING_ACTIONS.countSendStream)),
    uncountSendStream: assign(countingFor(COUNTING_ACTIONS.uncountSendStream)),
    rejectCounterUnderflow: emit(({ event }) => ({
      type: 'anomaly' as const,
      reason: REJECTING_ACTIONS.rejectCounterUnderflow,
      event: event.type,
    })),
    rejectUnknownEvent: emit(({ event }) => ({
      type: 'anomaly' as const,
      reason: REJECTING_ACTIONS.rejectUnknownEvent,
      event: String((event as { type: unknown }).type),
    })),
  },
}).createMachine({
  id: 'roomSession',
  context: { ...ZERO_COUNTERS },
  initial: 'init',
  on: {
    'Session.connectionCreated': { actions: 'countConnection' },
    'Session.connectionDestroyed': [
      { guard: 'connectionsIsZero', actions: 'rejectCounterUnderflow' },
      { actions: 'uncountConnection' },
    ],
    'Session.streamCreated': { actions: 'countRecvStream' },
    'Session.streamDestroyed': [
      { guard: 'recvStreamsIsZero', actions: 'rejectCounterUnderflow' },
      { actions: 'uncountRecvStream' },
    ],
    'Publisher.streamCreated': { actions: 'countSendStream' },
    'Publisher.streamDestroyed': [
      { guard: 'sendStreamsIsZero', actions: 'rejectCounterUnderflow' },
      { actions: 'uncountSendStream' },
    ],
    '*': { actions: 'rejectUnknownEvent' },
  },
  states: {
    init: {
      on: {
        'Session.connectionCreated': { target: 'waiting', actions: 'countConnection' },
      },
    },
    waiting: {
      on: {
        'Session.connectionCreated': { target: 'starting', actions: 'countConnection' },
        'Session.connectionDestroyed': { target: 'init', actions: 'uncountConnection' },
      },
    },
    starting: {
      always: [
        { guard: 'hasSendAndRecvStreams', target: 'sendrecv' },
        { guard: 'hasSendStreams', target: 'sending' },
        { guard: 'hasRecvStreams', target: 'receiving' },
      ],
      on: {
        'Session.streamCreated': { target: 'receiving', actions: 'countRecvStream' },
        'Publisher.streamCreated': { target: 'sending', actions: 'countSendStream' },
        'Session.connectionDestroyed': { guard: 'isLastPeerConnection', target: 'waiting', actions: 'uncountConnection' },
      },
    },
    sending: {
      on: {
        'Session.streamCreated': { target: 'sendrecv', actions: 'countRecvStream' },
        'Publisher.streamDestroyed': { guard: 'isLastSendStream', target: 'cleanup', actions: 'uncountSendStream' },
        'Session.connectionDestroyed': { guard: 'isLastPeerConnection', target: 'waiting', actions: 'uncountConnection' },
      },
    },
    receiving: {
      on: {
        'Publisher.streamCreated': { target: 'sendrecv', actions: 'countSendStream' },
        'Session.streamDestroyed': { guard: 'isLastRecvStream', target: 'cleanup', actions: 'uncountRecvStream' },
        'Session.connectionDestroyed': { guard: 'isLastPeerConnection', target: 'waiting', actions: 'uncountConnection' },
      },
    },
    sendrecv: {
      on: {
        'Publisher.streamDestroyed': { guard: 'isLastSendStream', target: 'receiving', actions: 'uncountSendStream' },
        'Session.streamDestroyed': { guard: 'isLastRecvStream', target: 'sending', actions: 'uncountRecvStream' },
        'Session.connectionDestroyed': { guard: 'isLastPeerConnection', target: 'waiting', actions: 'uncountConnection' },
      },
    },
    cleanup: {
      on: {
        'Session.streamCreated': { target: 'receiving', actions: 'countRecvStream' },
        'Publisher.streamCreated': { target: 'sending', actions: 'countSendStream' },
        'Session.connectionDestroyed': { guard: 'isLastPeerConnection', target: 'waiting', actions: 'uncountConnection' },
      },
    },
  },
});

/** The machine's type: for typing code around it, e.g. `ActorRefFrom<RoomSessionMachine>` or `SnapshotFrom<RoomSessionMachine>`. */
export type RoomSessionMachine = typeof roomSessionMachine;
