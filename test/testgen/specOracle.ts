// An independent reading of the spec (room-session.md sections 1, 3 and 4), written from its text
// and not from the machine: what one event does to (state, counters). Used to check generated vectors.
type State = 'init' | 'waiting' | 'starting' | 'sending' | 'receiving' | 'sendrecv' | 'cleanup';
export interface OracleState {
  state: State;
  connections: number;
  sendStreams: number;
  recvStreams: number;
}
export interface OracleStep extends OracleState {
  accepted: boolean;
}

// Section 1: which counter each of the six events moves.
const COUNTS: Record<string, ['connections' | 'sendStreams' | 'recvStreams', 1 | -1]> = {
  'Session.connectionCreated': ['connections', 1],
  'Session.connectionDestroyed': ['connections', -1],
  'Session.streamCreated': ['recvStreams', 1],
  'Session.streamDestroyed': ['recvStreams', -1],
  'Publisher.streamCreated': ['sendStreams', 1],
  'Publisher.streamDestroyed': ['sendStreams', -1],
};

/** Where media stands, named by the counters (4.2): both kinds, send only, receive only, or none. */
function mediaState(c: OracleState): State | undefined {
  if (c.sendStreams > 0 && c.recvStreams > 0) return 'sendrecv';
  if (c.sendStreams > 0) return 'sending';
  if (c.recvStreams > 0) return 'receiving';
  return undefined;
}

export function oracleStep(from: OracleState, event: string): OracleStep {
  const counting = COUNTS[event];
  // 4.1: an unknown event type, or a decrement below zero, is rejected: nothing changes.
  if (!counting) return { ...from, accepted: false };
  const [counter, delta] = counting;
  if (from[counter] + delta < 0) return { ...from, accepted: false };
  // 4.1: counting always happens.
  const c: OracleState = { ...from, [counter]: from[counter] + delta };
  const isConnection = counter === 'connections';
  let state: State = from.state;
  switch (from.state) {
    case 'init':
      // Diagram: init -> waiting on the first connection; 4.4: streams while alone only count.
      if (isConnection && delta > 0) state = 'waiting';
      break;
    case 'waiting':
      if (isConnection && delta < 0) state = 'init'; // the last connection went
      // The second connection: starting, settling at once into what the streams already counted name (4.3).
      if (isConnection && delta > 0) state = mediaState(c) ?? 'starting';
      break;
    default:
      // With company (starting, sending, receiving, sendrecv, cleanup).
      if (isConnection) {
        // 4.3: exactly one remains -> waiting; two or more remain, or a further one joins -> no state change.
        if (c.connections === 1) state = 'waiting';
      } else if (delta > 0) {
        // Diagram and 4.5: a created stream leads to the state the counters name.
        state = mediaState(c)!;
      } else {
        // Diagram and 4.5: the last stream of a kind going leads to what remains, or cleanup when nothing does.
        state = mediaState(c) ?? 'cleanup';
      }
  }
  return { ...c, state, accepted: true };
}

export const ORACLE_START: OracleState = { state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 };
