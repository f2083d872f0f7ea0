// The client side of the room flow: from nothing to reporting with the package alone (browser-safe).
// The helpers load their code on first call (import()): an app that never calls them (a Basic client given
// its sessionToken) ships only their error classes, and a session given `join` loads the join when created.
import { fieldsProblem } from '../check';
import { basicAuthorization } from '../transport/basic';
import { checkHawkCredentials, type HawkCredentials } from '../transport/hawkCredentials';
import { baseUrl, CONTENT_TYPE, errorName, notTheApiHint, outsideTheApi, readRefusal, ROOM_TOKEN } from '../transport/http';
import { nextWait, sleep } from '../transport/retry';
import { RoomsApiError, RoomsNetworkError, type RoomsClientOptions } from './errors';
import type { HawkSession } from './hawkSession';
import type { CreatedRoom, CreateRoomOptions, JoinedRoom, JoinRetry, JoinRoomOptions } from './rooms';

export { RoomsApiError, RoomsNetworkError, type RoomsAuth, type RoomsClientOptions } from './errors';

/**
 * What the helpers' code shares with a room session (checks, the Basic header, messages), handed to it on
 * each call rather than imported: a module imported both at start and by a lazily loaded one becomes a
 * chunk of its own in an app's code-split bundle (esbuild), one more file a page loads at start. Its names
 * end in `_`: the package's build shortens them (scripts/mangle.mjs).
 */
const shared = { baseUrl_: baseUrl, CONTENT_TYPE_: CONTENT_TYPE, errorName_: errorName, notTheApiHint_: notTheApiHint, outsideTheApi_: outsideTheApi, readRefusal_: readRefusal, ROOM_TOKEN_: ROOM_TOKEN, basicAuthorization_: basicAuthorization, checkHawkCredentials_: checkHawkCredentials, fieldsProblem_: fieldsProblem, RoomsApiError_: RoomsApiError, RoomsNetworkError_: RoomsNetworkError, nextWait_: nextWait, sleep_: sleep };
export type RoomsShared = typeof shared;

export type { HawkSession } from './hawkSession';
export type { CreateRoomOptions, CreatedRoom, JoinRoomOptions, JoinedRoom } from './rooms';

/**
 * POST /registration without credentials: a new Hawk session (a desktop user) and its credentials. Rejects
 * with a RoomsApiError, a RoomsNetworkError, the signal's reason when `options.signal` aborts it, or a
 * TypeError for a bad serverUrl or an unknown option.
 */
export const registerHawkSession = (serverUrl: string, options?: RoomsClientOptions): Promise<HawkSession> =>
  import('./hawkSession').then((m) => m.registerHawkSession(serverUrl, options, shared));

/** Hawk credentials from a hex session token, as Loop derives them: HKDF-SHA256, empty salt; id = bytes 0-31, key = bytes 32-63 (hex). */
export const deriveHawkCredentials = (sessionTokenHex: string): Promise<HawkCredentials> => import('./hawkSession').then((m) => m.deriveHawkCredentials(sessionTokenHex));

/**
 * POST /rooms, signed with the owner's Hawk credentials: a new room. Rejects with a RoomsApiError (the
 * server refused), a RoomsNetworkError (no answer), the signal's reason (aborted) or a TypeError (a bad or
 * unknown option, named in the message).
 */
export const createRoom = (options: CreateRoomOptions): Promise<CreatedRoom> => import('./rooms').then((m) => m.createRoom(options, shared));

/**
 * POST /rooms/{roomToken} {"action":"join"}: a participation in the room. Without `auth`, a standalone join
 * (the answer's sessionToken is then the Basic user of that participant's requests). Rejects as createRoom
 * does; errors name the path used, with `:roomToken` in place of the token.
 */
export const joinRoom: (options: JoinRoomOptions) => Promise<JoinedRoom> = (options, retry?: JoinRetry) => import('./rooms').then((m) => m.joinRoom(options, shared, retry));
/** joinRoom as a room session joins: retried under its policy (internal; the helper alone is tried once). */
export const joinRetrying = joinRoom as (options: JoinRoomOptions, retry: JoinRetry) => Promise<JoinedRoom>;
