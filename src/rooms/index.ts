// The client side of the room flow: from nothing to reporting with the package alone (browser-safe).
export { deriveHawkCredentials, registerHawkSession, HAWK_SESSION_INFO, type HawkSession } from './hawkSession';
export { createRoom, joinRoom, type CreateRoomOptions, type CreatedRoom, type JoinRoomOptions, type JoinedRoom } from './rooms';
export { RoomsApiError, RoomsNetworkError, type RoomsAuth, type RoomsClientOptions } from './request';
