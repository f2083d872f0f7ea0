// Participant sessions (PostgreSQL dialect; sqlite/sql/sessions.ts is the same in SQLite's). Session rows are
// locked in id order, after their room: the fixed order that keeps concurrent units of work free of deadlocks.
import type { EndReason, SessionRecord } from '../../contract';
import { ENDED_COLUMNS, endedFromRow, placeholders, SESSION_COLUMNS, sessionFromRow, sessionValues, type Ended, type Row } from '../../common/rows';
import type { Queryable } from '../connection';

const LIST = SESSION_COLUMNS.join(', ');
const ENDED = ENDED_COLUMNS.join(', ');
const ENDED_S = ENDED_COLUMNS.map((c) => `s.${c}`).join(', ');


export async function insertSession(q: Queryable, s: SessionRecord): Promise<void> {
  await q.query(`INSERT INTO sessions (${LIST}) VALUES (${placeholders(SESSION_COLUMNS.length, 'postgres')})`, sessionValues(s));
}

export async function selectSession(q: Queryable, id: string): Promise<SessionRecord | undefined> {
  const r = (await q.query({ name: 'lrs_session', text: `SELECT ${LIST} FROM sessions WHERE id = $1`, values: [id] })).rows[0] as Row | undefined;
  return r ? sessionFromRow(r) : undefined;
}

/** The sessions with these ids, locked in id order for a unit of work. */
export async function selectSessionsForUpdate(q: Queryable, ids: readonly string[]): Promise<SessionRecord[]> {
  const rows = (await q.query(`SELECT ${LIST} FROM sessions WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`, [[...ids]])).rows as Row[];
  return rows.map(sessionFromRow);
}

export async function selectSessionByToken(q: Queryable, tokenHmac: string): Promise<SessionRecord | undefined> {
  const r = (await q.query({ name: 'lrs_session_by_token', text: `SELECT ${LIST} FROM sessions WHERE token_hmac = $1`, values: [tokenHmac] })).rows[0] as Row | undefined;
  return r ? sessionFromRow(r) : undefined;
}

/** Open sessions of a room, in join order. */
export async function selectOpenSessions(q: Queryable, room: string): Promise<SessionRecord[]> {
  const rows = (await q.query(`SELECT ${LIST} FROM sessions WHERE room = $1 AND ended_at IS NULL ORDER BY joined_at, id`, [room])).rows as Row[];
  return rows.map(sessionFromRow);
}

/** Open sessions of a room locked in id order (the fixed order), handed out in join order. */
export async function selectOpenSessionsForUpdate(q: Queryable, room: string): Promise<SessionRecord[]> {
  const rows = (await q.query(`SELECT ${LIST} FROM sessions WHERE room = $1 AND ended_at IS NULL ORDER BY id FOR NO KEY UPDATE`, [room])).rows as Row[];
  return rows.map(sessionFromRow).sort((a, b) => a.joinedAt - b.joinedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The participant's open session in the room; the latest joined should there be several. */
export async function selectOpenSessionOf(q: Queryable, room: string, participantHmac: string): Promise<SessionRecord | undefined> {
  const r = (
    await q.query({
      name: 'lrs_open_session_of',
      text: `SELECT ${LIST} FROM sessions WHERE room = $1 AND participant_hmac = $2 AND ended_at IS NULL ORDER BY joined_at DESC, id DESC LIMIT 1`,
      values: [room, participantHmac],
    })
  ).rows[0] as Row | undefined;
  return r ? sessionFromRow(r) : undefined;
}

/** Ends one open session; the ended session, or undefined when it was not open. */
export async function endSession(q: Queryable, id: string, reason: EndReason, at: number): Promise<Ended | undefined> {
  const r = (
    await q.query(
      `UPDATE sessions SET ended_at = $2, end_reason = $3, end_state = state, display_name = NULL WHERE id = $1 AND ended_at IS NULL RETURNING ${ENDED}`,
      [id, at, reason],
    )
  ).rows[0] as Row | undefined;
  return r ? endedFromRow(r) : undefined;
}

/** Ends every open session of a room (reason 'deleted'), locked in id order. */
export async function endRoomSessions(q: Queryable, room: string, at: number): Promise<Ended[]> {
  const rows = (
    await q.query(
      `WITH locked AS (SELECT id FROM sessions WHERE room = $1 AND ended_at IS NULL ORDER BY id FOR NO KEY UPDATE)
       UPDATE sessions s SET ended_at = $2, end_reason = 'deleted', end_state = s.state, display_name = NULL
       FROM locked WHERE s.id = locked.id AND s.ended_at IS NULL RETURNING ${ENDED_S}`,
      [room, at],
    )
  ).rows as Row[];
  return rows.map(endedFromRow);
}

/** Ends open sessions whose expiry passed, at their expiry (reason 'expired'), locked in id order. */
export async function expireSessions(q: Queryable, now: number, limit: number): Promise<Ended[]> {
  const rows = (
    await q.query(
      `WITH locked AS (SELECT id FROM sessions WHERE ended_at IS NULL AND expires_at <= $1 ORDER BY id LIMIT $2 FOR NO KEY UPDATE)
       UPDATE sessions s SET ended_at = s.expires_at, end_reason = 'expired', end_state = s.state, display_name = NULL
       FROM locked WHERE s.id = locked.id AND s.ended_at IS NULL AND s.expires_at <= $1 RETURNING ${ENDED_S}`,
      [now, limit],
    )
  ).rows as Row[];
  return rows.map(endedFromRow);
}

/** Retention: at most `limit` of the sessions ended before `before`, first ended first; how many. */
export async function deleteEndedSessions(q: Queryable, before: number, limit: number): Promise<number> {
  // SKIP LOCKED never waits for a lock, so the order the rows are locked in cannot deadlock with a unit's.
  const r = await q.query('DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE ended_at < $1 ORDER BY ended_at LIMIT $2 FOR UPDATE SKIP LOCKED)', [before, limit]);
  return r.rowCount ?? 0;
}
