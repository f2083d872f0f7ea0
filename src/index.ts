// The client's door: everything `import ... from 'loop-room-state'` gives. Browser-safe: no Node-only module.
export {
  ROOM_STATES,
  ROOM_EVENTS,
  ROOM_COUNTERS,
  COUNTING,
  isRoomEventType,
  isRoomState,
  type RoomState,
  type RoomEventType,
  type RoomEvent,
  type RoomCounters,
  type RoomCounter,
  type RoomAnomaly,
  type AnomalyReason,
} from '../machines/domain';
export { roomSessionMachine, type RoomSessionMachine } from '../machines/roomSession';
export { statusReport, type StatusReport } from './report';
export { stepRoom, walkRoom, initialRoomSnapshot, type RoomStep, type RoomSnapshot, type RoomEventInput, type CheckedEvent } from './model/step';
export {
  createRoomSession,
  type RoomSession,
  type RoomSessionEvents,
  type RoomSessionEventName,
  type RoomSessionIdle,
  type ReportDelivered,
  type LeaveResult,
  type RoomSessionStats,
  type ReportingState,
  type RoomInfo,
  type JoinResult,
} from './service/roomSession';
export type { FlushResult } from './transport/deliveryQueue';
export type { RoomSessionOptions, RoomAuth, RoomJoinOptions, RoomInspector } from './service/options';
export type {
  RoomSessionError,
  RoomSessionErrorKind,
  RequestDroppedError,
  ReportingStoppedError,
  RequestsDiscardedError,
  QueueOverflowError,
  ListenerError,
  StopReason,
  RoomRequest,
} from './transport/errors';
export { fromRoomSession, type RoomSessionLogic, type RoomSessionActorSnapshot, type RoomSessionActorEvent, type RoomSessionEmitted } from './actor/fromRoomSession';
export type { RetryPolicy } from './transport/retry';
export type { HawkCredentials } from './transport/hawk';
export type { FetchLike } from './transport/attempt';
export type { Subscription } from './service/listeners';
export { attachOpenTok, type OpenTokEmitter, type OpenTokSources, type RoomEventSink } from './adapters/openTok';
export {
  registerHawkSession,
  deriveHawkCredentials,
  createRoom,
  joinRoom,
  RoomsApiError,
  RoomsNetworkError,
  type HawkSession,
  type CreateRoomOptions,
  type CreatedRoom,
  type JoinRoomOptions,
  type JoinedRoom,
  type RoomsAuth,
  type RoomsClientOptions,
} from './rooms';
