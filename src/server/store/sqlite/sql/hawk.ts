// Hawk sessions and nonce claims (SQLite dialect; postgres/sql/hawk.ts is the same in PostgreSQL's).
import type { HawkNonceClaim, HawkSessionRecord } from '../../contract';
import { hawkFromRow, type Row } from '../../common/rows';
import type { Sql } from '../statements';

export function insertHawkSession(sql: Sql, r: HawkSessionRecord): void {
  sql('INSERT INTO hawk_sessions (id_hmac, key, created_at, last_used_at) VALUES (?, ?, ?, ?)').run(r.idHmac, r.key, r.createdAt, r.lastUsedAt);
}

export function selectHawkSession(sql: Sql, idHmac: string): HawkSessionRecord | undefined {
  const r = sql('SELECT id_hmac, key, created_at, last_used_at FROM hawk_sessions WHERE id_hmac = ?').get(idHmac) as Row | undefined;
  return r ? hawkFromRow(r) : undefined;
}

export function touchHawkSession(sql: Sql, idHmac: string, at: number): void {
  sql('UPDATE hawk_sessions SET last_used_at = ? WHERE id_hmac = ? AND last_used_at < ?').run(at, idHmac, at);
}

/** True when the claim is new. */
export function claimNonce(sql: Sql, c: HawkNonceClaim, at: number): boolean {
  return sql('INSERT INTO hawk_nonces (id_hmac, nonce, ts, claimed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(c.idHmac, c.nonce, c.ts, at).changes === 1;
}

export function purgeNonces(sql: Sql, before: number): void {
  sql('DELETE FROM hawk_nonces WHERE claimed_at < ?').run(before);
}

/** Retention, after the rooms: at most `limit` of the Hawk sessions last used before `before` that own no room and are in no open session; how many. */
export function deleteUnusedHawkSessions(sql: Sql, before: number, limit: number): number {
  return sql(
    `DELETE FROM hawk_sessions WHERE rowid IN (SELECT rowid FROM hawk_sessions WHERE last_used_at < ?
       AND NOT EXISTS (SELECT 1 FROM rooms r WHERE r.owner_hmac = hawk_sessions.id_hmac)
       AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.participant_hmac = hawk_sessions.id_hmac AND s.ended_at IS NULL)
       LIMIT ?)`,
  ).run(before, limit).changes;
}
