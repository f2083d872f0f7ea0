// Participant sessions (SQLite dialect; postgres/sql/sessions.ts is the same in PostgreSQL's).
import type { EndReason, SessionRecord } from '../../contract';
import { changedSessionColumns, ENDED_COLUMNS, endedFromRow, placeholders, SESSION_COLUMNS, sessionFromRow, sessionValues, type Ended, type Row } from '../../common/rows';
import { bindable, type Sql } from '../statements';

const LIST = SESSION_COLUMNS.join(', ');
const ENDED = ENDED_COLUMNS.join(', ');


export function insertSession(sql: Sql, s: SessionRecord): void {
  sql(`INSERT INTO sessions (${LIST}) VALUES (${placeholders(SESSION_COLUMNS.length, 'sqlite')})`).run(...bindable(sessionValues(s)));
}

/**
 * Writes what a unit of work changed in the session (`before` is the row it read). One statement per set of columns
 * changed: a report changes the same few, so there are a handful.
 */
export function updateSessionRow(sql: Sql, before: SessionRecord, next: SessionRecord): void {
  const { columns, values } = changedSessionColumns(before, next);
  if (columns.length === 0) return;
  sql(`UPDATE sessions SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`).run(...bindable(values), next.id);
}

export function selectSession(sql: Sql, id: string): SessionRecord | undefined {
  const r = sql(`SELECT ${LIST} FROM sessions WHERE id = ?`).get(id) as Row | undefined;
  return r ? sessionFromRow(r) : undefined;
}

/** The sessions with these ids, locked for a unit of work (one writer: the transaction is the lock). */
export function selectSessionsForUpdate(sql: Sql, ids: readonly string[]): SessionRecord[] {
  return ids.map((id) => selectSession(sql, id)).filter((s): s is SessionRecord => s !== undefined);
}

export function selectSessionByToken(sql: Sql, tokenHmac: string): SessionRecord | undefined {
  const r = sql(`SELECT ${LIST} FROM sessions WHERE token_hmac = ?`).get(tokenHmac) as Row | undefined;
  return r ? sessionFromRow(r) : undefined;
}

/** Open sessions of a room, in join order. */
export function selectOpenSessions(sql: Sql, room: string): SessionRecord[] {
  return (sql(`SELECT ${LIST} FROM sessions WHERE room = ? AND ended_at IS NULL ORDER BY joined_at, id`).all(room) as Row[]).map(sessionFromRow);
}

/** The participant's open session in the room; the latest joined should there be several. */
export function selectOpenSessionOf(sql: Sql, room: string, participantHmac: string): SessionRecord | undefined {
  const r = sql(`SELECT ${LIST} FROM sessions WHERE room = ? AND participant_hmac = ? AND ended_at IS NULL ORDER BY joined_at DESC, id DESC LIMIT 1`).get(room, participantHmac) as
    | Row
    | undefined;
  return r ? sessionFromRow(r) : undefined;
}

/** Ends one open session; the ended session, or undefined when it was not open. */
export function endSession(sql: Sql, id: string, reason: EndReason, at: number): Ended | undefined {
  const r = sql(
    `UPDATE sessions SET ended_at = ?, end_reason = ?, end_state = state, display_name = NULL WHERE id = ? AND ended_at IS NULL RETURNING ${ENDED}`,
  ).get(at, reason, id) as Row | undefined;
  return r ? endedFromRow(r) : undefined;
}

/** Ends every open session of a room (reason 'deleted'). */
export function endRoomSessions(sql: Sql, room: string, at: number): Ended[] {
  return (
    sql(
      `UPDATE sessions SET ended_at = ?, end_reason = 'deleted', end_state = state, display_name = NULL WHERE room = ? AND ended_at IS NULL RETURNING ${ENDED}`,
    ).all(at, room) as Row[]
  ).map(endedFromRow);
}

/** Ends at most `limit` of the open sessions whose expiry passed, at their expiry (reason 'expired'). */
export function expireSessions(sql: Sql, now: number, limit: number): Ended[] {
  return (
    sql(
      // INDEXED BY: without ANALYZE's statistics SQLite takes `ended_at IS NULL` on sessions_ended as the narrower
      // lookup, and visits every open session each sweep.
      `UPDATE sessions SET ended_at = expires_at, end_reason = 'expired', end_state = state, display_name = NULL
       WHERE rowid IN (SELECT rowid FROM sessions INDEXED BY sessions_open_expiry WHERE ended_at IS NULL AND expires_at <= ? LIMIT ?) RETURNING ${ENDED}`,
    ).all(now, limit) as Row[]
  ).map(endedFromRow);
}

/** Retention: at most `limit` of the sessions ended before `before`, first ended first; how many. */
export function deleteEndedSessions(sql: Sql, before: number, limit: number): number {
  return sql('DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE ended_at < ? ORDER BY ended_at LIMIT ?)').run(before, limit).changes;
}

/** Open sessions of a room, locked for a unit of work, in join order (one writer: the transaction is the lock). */
export const selectOpenSessionsForUpdate = selectOpenSessions;
