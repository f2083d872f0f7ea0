import type { RoomCounters, RoomEventType, RoomState } from '../machines/domain';

/** The status report body, exactly the six fields of spec section 1, in the spec's order. */
export interface StatusReport {
  action: 'status';
  event: RoomEventType;
  state: RoomState;
  connections: number;
  sendStreams: number;
  recvStreams: number;
}

/**
 * The status report for an accepted event: `event` and the state and counters after it. A session builds it
 * for you; use it to report from your own actor or to build what a server should receive.
 */
export function statusReport(event: RoomEventType, state: RoomState, counters: RoomCounters): StatusReport {
  return {
    action: 'status',
    event,
    state,
    connections: counters.connections,
    sendStreams: counters.sendStreams,
    recvStreams: counters.recvStreams,
  };
}
