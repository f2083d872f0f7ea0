// Rooms (SQLite dialect; postgres/sql/rooms.ts is the same in PostgreSQL's).
import type { RoomRecord } from '../../contract';
import { placeholders, ROOM_COLUMNS, roomFromRow, roomValues, type Row } from '../../common/rows';
import type { Sql } from '../statements';

export function insertRoom(sql: Sql, r: RoomRecord): void {
  sql(`INSERT INTO rooms (${ROOM_COLUMNS.join(', ')}) VALUES (${placeholders(ROOM_COLUMNS.length, 'sqlite')})`).run(...roomValues(r));
}

export function selectRoom(sql: Sql, token: string): RoomRecord | undefined {
  const r = sql(`SELECT ${ROOM_COLUMNS.join(', ')} FROM rooms WHERE token = ?`).get(token) as Row | undefined;
  return r ? roomFromRow(r) : undefined;
}

/** The room, locked for the unit of work (one writer: the transaction is the lock). */
export const selectRoomForUpdate = selectRoom;

export function markRoomDeleted(sql: Sql, token: string, at: number): void {
  sql('UPDATE rooms SET deleted_at = ? WHERE token = ? AND deleted_at IS NULL').run(at, token);
}

/** Retention: at most `limit` of the rooms expired or deleted before `before` that no session refers to any more; how many. */
export function deleteGoneRooms(sql: Sql, before: number, limit: number): number {
  return sql('DELETE FROM rooms WHERE rowid IN (SELECT rowid FROM rooms WHERE (expires_at < ? OR deleted_at < ?) AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.room = rooms.token) LIMIT ?)').run(before, before, limit).changes;
}

/** Rooms of this owner (Hawk id HMAC) neither deleted nor expired at `now`: the rooms-per-Hawk-session limit. */
export function countLiveRooms(sql: Sql, ownerHmac: string, now: number): number {
  return Number((sql('SELECT count(*) AS n FROM rooms WHERE owner_hmac = ? AND deleted_at IS NULL AND expires_at > ?').get(ownerHmac, now) as Row).n);
}
