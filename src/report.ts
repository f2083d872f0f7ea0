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
