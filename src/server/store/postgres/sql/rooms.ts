// Rooms (PostgreSQL dialect; sqlite/sql/rooms.ts is the same in SQLite's).
import type { RoomRecord } from '../../contract';
import { placeholders, ROOM_COLUMNS, roomFromRow, roomValues, type Row } from '../../common/rows';
import type { Queryable } from '../connection';

export async function insertRoom(q: Queryable, r: RoomRecord): Promise<void> {
  await q.query(`INSERT INTO rooms (${ROOM_COLUMNS.join(', ')}) VALUES (${placeholders(ROOM_COLUMNS.length, 'postgres')})`, roomValues(r));
}

export async function selectRoom(q: Queryable, token: string): Promise<RoomRecord | undefined> {
  const r = (await q.query({ name: 'lrs_room', text: `SELECT ${ROOM_COLUMNS.join(', ')} FROM rooms WHERE token = $1`, values: [token] })).rows[0] as Row | undefined;
  return r ? roomFromRow(r) : undefined;
}

/** The room, locked for the unit of work (the first lock of the fixed order: a room, then its sessions by id). */
export async function selectRoomForUpdate(q: Queryable, token: string): Promise<RoomRecord | undefined> {
  const r = (await q.query(`SELECT ${ROOM_COLUMNS.join(', ')} FROM rooms WHERE token = $1 FOR NO KEY UPDATE`, [token])).rows[0] as Row | undefined;
  return r ? roomFromRow(r) : undefined;
}

export async function markRoomDeleted(q: Queryable, token: string, at: number): Promise<void> {
  await q.query('UPDATE rooms SET deleted_at = $2 WHERE token = $1 AND deleted_at IS NULL', [token, at]);
}

/** Retention: rooms expired or deleted before `before` that no session refers to any more. */
export async function deleteGoneRooms(q: Queryable, before: number, limit: number): Promise<number> {
  const r = await q.query(
    'DELETE FROM rooms WHERE token IN (SELECT token FROM rooms WHERE (expires_at < $1 OR deleted_at < $1) AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.room = rooms.token) LIMIT $2 FOR UPDATE SKIP LOCKED)',
    [before, limit],
  );
  return r.rowCount ?? 0;
}

/** Rooms of this owner (Hawk id HMAC) neither deleted nor expired at `now`: the rooms-per-Hawk-session limit. */
export async function countLiveRooms(q: Queryable, ownerHmac: string, now: number): Promise<number> {
  const r = (await q.query({ name: 'lrs_live_rooms', text: 'SELECT count(*) AS n FROM rooms WHERE owner_hmac = $1 AND deleted_at IS NULL AND expires_at > $2', values: [ownerHmac, now] })).rows[0] as Row;
  return Number(r.n);
}
