// Hawk sessions and nonce claims (PostgreSQL dialect; sqlite/sql/hawk.ts is the same in SQLite's).
import type { HawkNonceClaim, HawkSessionRecord } from '../../contract';
import { hawkFromRow, type Row } from '../../common/rows';
import type { Queryable } from '../connection';

export async function insertHawkSession(q: Queryable, r: HawkSessionRecord): Promise<void> {
  await q.query('INSERT INTO hawk_sessions (id_hmac, key, created_at, last_used_at) VALUES ($1, $2, $3, $4)', [r.idHmac, r.key, r.createdAt, r.lastUsedAt]);
}

export async function selectHawkSession(q: Queryable, idHmac: string): Promise<HawkSessionRecord | undefined> {
  const r = (await q.query({ name: 'lrs_hawk_session', text: 'SELECT id_hmac, key, created_at, last_used_at FROM hawk_sessions WHERE id_hmac = $1', values: [idHmac] })).rows[0] as Row | undefined;
  return r ? hawkFromRow(r) : undefined;
}

export async function touchHawkSession(q: Queryable, idHmac: string, at: number): Promise<void> {
  await q.query({ name: 'lrs_hawk_touch', text: 'UPDATE hawk_sessions SET last_used_at = $2 WHERE id_hmac = $1 AND last_used_at < $2', values: [idHmac, Math.trunc(at)] });
}

/**
 * True when the claim is new. One statement (its own implicit transaction), and no wait for the WAL flush:
 * set_config with is_local=true turns synchronous_commit off for this statement's transaction only. The claim
 * is visible to every process once committed; only a crash of PostgreSQL within a fraction of a second could
 * forget it (the request's own writes stay durable).
 */
export async function claimNonce(q: Queryable, c: HawkNonceClaim, at: number): Promise<boolean> {
  const result = await q.query({
    name: 'lrs_nonce_claim',
    text:
      'INSERT INTO hawk_nonces (id_hmac, nonce, ts, claimed_at) ' +
      "SELECT $1, $2, $3, $4 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit " +
      'ON CONFLICT DO NOTHING RETURNING 1 AS claimed',
    values: [c.idHmac, c.nonce, c.ts, Math.trunc(at)],
  });
  return result.rows.length === 1;
}

export async function purgeNonces(q: Queryable, before: number): Promise<void> {
  await q.query({ name: 'lrs_nonce_purge', text: 'DELETE FROM hawk_nonces WHERE claimed_at < $1', values: [before] });
}

/** Retention, after the rooms: Hawk sessions last used before `before` that own no room and are in no open session. */
export async function deleteUnusedHawkSessions(q: Queryable, before: number, limit: number): Promise<number> {
  const r = await q.query(
    `DELETE FROM hawk_sessions WHERE id_hmac IN (SELECT id_hmac FROM hawk_sessions WHERE last_used_at < $1
       AND NOT EXISTS (SELECT 1 FROM rooms r WHERE r.owner_hmac = hawk_sessions.id_hmac)
       AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.participant_hmac = hawk_sessions.id_hmac AND s.ended_at IS NULL)
       LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    [before, limit],
  );
  return r.rowCount ?? 0;
}
