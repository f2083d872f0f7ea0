import type { RoomEventType, RoomState } from '../../machines/domain';

/**
 * Spec section 3, the diagram as drawn: twelve edges, transcribed from the spec text (not from the machine),
 * so docs can tell the drawn edges from the completing ones and tests can check the machine against them.
 */
export const SPEC_DIAGRAM_EDGES: ReadonlyArray<{ from: RoomState; event: RoomEventType; to: RoomState }> = [
  { from: 'init', event: 'Session.connectionCreated', to: 'waiting' },
  { from: 'waiting', event: 'Session.connectionCreated', to: 'starting' },
  { from: 'starting', event: 'Session.streamCreated', to: 'receiving' },
  { from: 'starting', event: 'Publisher.streamCreated', to: 'sending' },
  { from: 'receiving', event: 'Publisher.streamCreated', to: 'sendrecv' },
  { from: 'sending', event: 'Session.streamCreated', to: 'sendrecv' },
  { from: 'sendrecv', event: 'Publisher.streamDestroyed', to: 'receiving' },
  { from: 'sendrecv', event: 'Session.streamDestroyed', to: 'sending' },
  { from: 'sending', event: 'Publisher.streamDestroyed', to: 'cleanup' },
  { from: 'receiving', event: 'Session.streamDestroyed', to: 'cleanup' },
  { from: 'cleanup', event: 'Session.connectionDestroyed', to: 'waiting' },
  { from: 'waiting', event: 'Session.connectionDestroyed', to: 'init' },
];

/** Spec section 3, "exceptional transitions named by the page". */
export const SPEC_EXCEPTIONAL_EDGES: ReadonlyArray<{ from: RoomState; event: RoomEventType; to: RoomState }> = (
  ['starting', 'sending', 'receiving', 'sendrecv'] as const
).map((from) => ({ from, event: 'Session.connectionDestroyed' as const, to: 'waiting' as const }));
