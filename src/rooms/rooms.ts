// Creating and joining rooms (server spec section 1): what a client needs before it can report.
import type { RoomsAuth, RoomsClientOptions } from './errors';
import { checkOptions, KNOWN, roomsRequest } from './request';
import type { RoomsShared } from '.';
import type { HawkCredentials } from '../transport/hawk';

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
export async function joinRoom(o: JoinRoomOptions, shared: RoomsShared): Promise<JoinedRoom> {
  checkOptions('joinRoom', o, { serverUrl: KNOWN, roomToken: shared.ROOM_TOKEN_, displayName: KNOWN, clientMaxSize: KNOWN, auth: KNOWN }, shared);
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
}
