// The client side of the room flow: from nothing to reporting with the package alone (browser-safe).
// The helpers load their code on first call (import()): an app that never calls them (a Basic client given
// its sessionToken) ships only their error classes, and a session given `join` loads the join when created.
import type { HawkCredentials } from '../transport/hawkCredentials';
import type { HawkSession } from './hawkSession';
import type { CreatedRoom, CreateRoomOptions, JoinedRoom, JoinRoomOptions } from './rooms';
import type { RoomsClientOptions } from './errors';

export { RoomsApiError, RoomsNetworkError, type RoomsAuth, type RoomsClientOptions } from './errors';
export type { HawkSession } from './hawkSession';
export type { CreateRoomOptions, CreatedRoom, JoinRoomOptions, JoinedRoom } from './rooms';

/**
 * POST /registration without credentials: a new Hawk session (a desktop user) and its credentials. Rejects
 * with a RoomsApiError, a RoomsNetworkError, the signal's reason when `options.signal` aborts it, or a
 * TypeError for a bad serverUrl.
 */
export const registerHawkSession = (serverUrl: string, options?: RoomsClientOptions): Promise<HawkSession> =>
  import('./hawkSession').then((m) => m.registerHawkSession(serverUrl, options));

/** Hawk credentials from a hex session token, as Loop derives them: HKDF-SHA256, empty salt; id = bytes 0-31, key = bytes 32-63 (hex). */
export const deriveHawkCredentials = (sessionTokenHex: string): Promise<HawkCredentials> => import('./hawkSession').then((m) => m.deriveHawkCredentials(sessionTokenHex));

/**
 * POST /rooms, signed with the owner's Hawk credentials: a new room. Rejects with a RoomsApiError (the
 * server refused), a RoomsNetworkError (no answer), the signal's reason (aborted) or a TypeError (bad option).
 */
export const createRoom = (options: CreateRoomOptions): Promise<CreatedRoom> => import('./rooms').then((m) => m.createRoom(options));

/**
 * POST /rooms/{roomToken} {"action":"join"}: a participation in the room. Without `auth`, a standalone join
 * (the answer's sessionToken is then the Basic user of that participant's requests). Rejects as createRoom
 * does; errors name the path used, with `:roomToken` in place of the token.
 */
export const joinRoom = (options: JoinRoomOptions): Promise<JoinedRoom> => import('./rooms').then((m) => m.joinRoom(options));
