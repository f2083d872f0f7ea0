// Creating and joining rooms (server spec section 1): what a client needs before it can report.
import type { RoomsAuth, RoomsClientOptions } from './errors';
import { checkOptions, KNOWN, roomsRequest } from './request';
import type { RoomsShared } from '.';
import type { HawkCredentials } from '../transport/hawk';
import type { RetryPolicy } from '../transport/retry';

/** What createRoom takes: the owner's Hawk credentials and the room's name, owner and size. */
export interface CreateRoomOptions extends RoomsClientOptions {
  serverUrl: string;
  /** The owner's Hawk credentials (from registerHawkSession). */
  credentials: HawkCredentials;
  roomName: string;
  roomOwner: string;
  /** 2 up to the server's maximum (default 5). */
  maxSize?: number;
  /** Hours until the room expires (the server's default when absent). */
  expiresIn?: number;
}

/** The new room, as the server answered (201). */
export interface CreatedRoom {
  roomToken: string;
  roomUrl: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

/**
 * POST /rooms, signed with the owner's Hawk credentials: a new room. Rejects with a RoomsApiError (the
 * server refused), a RoomsNetworkError (no answer), the signal's reason (aborted) or a TypeError (bad option).
 */
export async function createRoom(o: CreateRoomOptions, shared: RoomsShared): Promise<CreatedRoom> {
  checkOptions('createRoom', o, { serverUrl: KNOWN, credentials: KNOWN, roomName: KNOWN, roomOwner: KNOWN, maxSize: KNOWN, expiresIn: KNOWN }, shared);
  const res = await roomsRequest({
    ...o,
    method: 'POST',
    path: '/rooms',
    auth: { type: 'hawk', credentials: o.credentials },
    body: { roomName: o.roomName, roomOwner: o.roomOwner, maxSize: o.maxSize ?? 5, ...(o.expiresIn !== undefined ? { expiresIn: o.expiresIn } : {}) },
    expect: [201],
  }, shared);
  return (await res.json()) as CreatedRoom;
}

/** What joinRoom takes. */
export interface JoinRoomOptions extends RoomsClientOptions {
  serverUrl: string;
  roomToken: string;
  displayName: string;
  /** How many participants this client can handle (default 2). */
  clientMaxSize?: number;
  /** Hawk for a desktop user; none for a standalone (web) join; Basic to rejoin as the same participant. */
  auth?: RoomsAuth;
}

/** The join's answer (200). */
export interface JoinedRoom {
  /** Basic user for this session's requests (standalone); keep it secret. */
  sessionToken: string;
  /** Seconds until the participation expires unless refreshed (any report also refreshes it). */
  expires: number;
  roomConnectionId: string;
}

/**
 * POST /rooms/{roomToken} {"action":"join"}: a participation in the room. Without `auth`, a standalone
 * join (the answer's sessionToken is then the Basic user of that participant's requests). Rejects as
 * createRoom does; errors name the path used, with `:roomToken` in place of the token.
 */
export async function joinRoom(o: JoinRoomOptions, shared: RoomsShared, retry?: JoinRetry): Promise<JoinedRoom> {
  checkOptions('joinRoom', o, { serverUrl: KNOWN, roomToken: shared.ROOM_TOKEN_, displayName: KNOWN, clientMaxSize: KNOWN, auth: KNOWN }, shared);
  const started = Date.now();
  for (let n = 1; ; n++) {
    try {
      const res = await roomsRequest({
        ...o,
        method: 'POST',
        path: `/rooms/${o.roomToken}`,
        shownPath: '/rooms/:roomToken',
        body: { action: 'join', displayName: o.displayName, clientMaxSize: o.clientMaxSize ?? 2 },
        expect: [200],
      }, shared);
      const j = (await res.json()) as JoinedRoom;
      return { sessionToken: j.sessionToken, expires: j.expires, roomConnectionId: j.roomConnectionId };
    } catch (err) {
      // Tried again only where the server cannot have taken the join: no answer, 408, 429, a 5xx.
      const status = err instanceof shared.RoomsApiError_ ? err.status : err instanceof shared.RoomsNetworkError_ ? 0 : 400;
      const wait = retry && (status === 0 || status === 408 || status === 429 || status >= 500) && !retry.stop_.aborted ? shared.nextWait_(n, started, retry.policy_) : undefined;
      if (wait === undefined) throw err;
      await shared.sleep_(wait, (wake) => retry!.stop_.addEventListener('abort', wake));
      if (retry!.stop_.aborted) throw err;
    }
  }
}

/** A room session's join is retried under its retry policy until `stop_` aborts (the helper alone is tried once). */
export interface JoinRetry {
  policy_: RetryPolicy;
  stop_: AbortSignal;
}
