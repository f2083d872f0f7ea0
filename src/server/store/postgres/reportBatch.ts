// Group commit of `updateSession` calls on PostgreSQL. Calls queue up while batches commit; the next batch
// takes them all, locks their sessions in id order, runs each `decide` in arrival order against the rows as the
// earlier calls left them, and writes everything in one transaction (three round trips whatever the batch size).
// Two batches may be in flight, on sessions of their own: a session's next call waits for its batch. A batch
// that fails for a reason other than an outage is redone call by call, each in its own transaction, so one bad
// call does not undo the others. A call's Hawk nonce claim (D-141) is inserted in the first round trip.
import type { Pool, PoolClient } from 'pg';
import { NonceReplayedError, StoreUnavailableError, type HawkNonceClaim, seenKey, type SeenKey, type SessionDecision, type SessionRecord, type StatusFields, type UnitNonce } from '../contract';
import { RollupDelta } from '../common/rollups';
import { appliedSession } from '../common/session';
import { SESSION_COLUMNS, sessionFromRow, sessionValues, statusFieldsFromRow, type Row } from '../common/rows';
import { addRollupsParams, addRollupsSql, overflowParam } from './sql/rollups';
import { transaction } from './transaction';

const MAX_BATCH = 512;
/** Report batches a process has in flight at once, each on a connection of its own. */
export const MAX_IN_FLIGHT = 2;
/** How long a batch whose COMMIT lost its connection waits for PostgreSQL to say whether it committed. */
const IN_DOUBT_WAIT_MS = 5000;
const SESSION_LIST = SESSION_COLUMNS.join(', ');

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface PendingUpdate {
  id: string;
  decide: (session: SessionRecord, seen: SeenKey) => SessionDecision<unknown>;
  /** The report's idempotency key, if the client sent one. */
  key?: string;
  /** A Hawk nonce to claim in the batch's transaction (set `claimed` once it committed). */
  nonce?: UnitNonce;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface ReportBatchOptions {
  /** The writers' pool (MAX_IN_FLIGHT connections). */
  writers: () => Pool;
  /** Any connection, to ask about a commit in doubt. */
  readers: () => Pool;
  log: (line: string) => void;
  /** The running-total shard of in-flight slot `slot`. */
  shardOf: (slot: number) => number;
  committed: (started: bigint) => void;
}

/** A nonce claim as one string (the claims of a batch, and the ones its INSERT returned, are matched by it). */
const claimKey = (c: HawkNonceClaim) => `${c.idHmac}\u0000${c.nonce}\u0000${c.ts}`;

export class ReportBatches {
  private queue: PendingUpdate[] = [];
  /** Sessions with a call in a batch in flight: their next calls wait for it, so a session's calls stay in order. */
  private busy = new Set<string>();
  /** Which in-flight slots are taken; a slot has its own running-total shard. */
  private slots: boolean[] = Array.from({ length: MAX_IN_FLIGHT }, () => false);

  constructor(private readonly o: ReportBatchOptions) {}

  add<T>(id: string, decide: (session: SessionRecord, seen: SeenKey) => SessionDecision<T>, key?: string, nonce?: UnitNonce): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      this.queue.push({ id, decide, key, nonce: nonce?.claimed ? undefined : nonce, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.slots.some(Boolean) || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  /**
   * Starts batches while a slot is free: each takes the queued calls, in order, except those of a session
   * that has a call in flight or held back (they wait for the next batch).
   */
  private pump(): void {
    for (;;) {
      const slot = this.slots.indexOf(false);
      if (slot < 0 || this.queue.length === 0) return;
      const batch: PendingUpdate[] = [];
      const rest: PendingUpdate[] = [];
      const held = new Set<string>();
      for (const call of this.queue) {
        if (batch.length < MAX_BATCH && !this.busy.has(call.id) && !held.has(call.id)) batch.push(call);
        else {
          rest.push(call);
          held.add(call.id);
        }
      }
      if (batch.length === 0) return;
      this.queue = rest;
      this.slots[slot] = true;
      for (const call of batch) this.busy.add(call.id);
      void this.runBatch(batch, slot).finally(() => {
        for (const call of batch) this.busy.delete(call.id);
        this.slots[slot] = false;
        this.pump();
      });
    }
  }

  /** One batch, answered: each call resolves or rejects. */
  private async runBatch(batch: PendingUpdate[], slot: number): Promise<void> {
    try {
      const outcomes = await this.storeBatch(batch, slot);
      outcomes.forEach((o, i) => (o.ok ? batch[i].resolve(o.value) : batch[i].reject(o.error)));
    } catch (err) {
      if (err instanceof StoreUnavailableError || batch.length === 1) {
        for (const call of batch) call.reject(err);
        return;
      }
      // Something in one call's data broke the shared transaction: redo each call on its own.
      for (const call of batch) {
        try {
          const [o] = await this.storeBatch([call], slot);
          if (o.ok) call.resolve(o.value);
          else call.reject(o.error);
        } catch (e) {
          call.reject(e);
        }
      }
    }
  }

  /**
   * One batch in one transaction on the writers' connection. A connection lost during COMMIT leaves the
   * outcome unknown; rather than answer 503 for reports that may be stored (the client would send them
   * again: stored twice), the transaction's id is looked up once PostgreSQL answers again.
   */
  private async storeBatch(batch: PendingUpdate[], slot: number): Promise<Outcome[]> {
    let txid: number | undefined;
    let claimed: UnitNonce[] = [];
    const outcomes = await transaction(
      this.o.writers,
      this.o.log,
      'store report',
      async (c) => {
        const r = await this.applyBatch(c, batch, this.o.shardOf(slot));
        txid = r.txid;
        claimed = r.claimed;
        return r.outcomes;
      },
      { begin: false, inDoubt: () => (txid === undefined ? Promise.resolve(false) : this.committed(txid)), committed: this.o.committed },
    );
    for (const n of claimed) n.claimed = true;
    return outcomes;
  }

  /** Whether transaction `txid` committed, asked until PostgreSQL answers (at most IN_DOUBT_WAIT_MS). */
  private async committed(txid: number): Promise<boolean> {
    const deadline = Date.now() + IN_DOUBT_WAIT_MS;
    this.o.log(`postgres: connection lost during a commit; waiting for PostgreSQL to tell its outcome`);
    for (;;) {
      try {
        const status = (await this.o.readers().query('SELECT txid_status($1::bigint) AS s', [txid])).rows[0]?.s;
        if (status === 'committed') return true;
        if (status === 'aborted') return false;
      } catch {
        // not back yet
      }
      if (Date.now() >= deadline) {
        this.o.log(`postgres: the outcome of a commit is unknown (PostgreSQL did not answer within ${IN_DOUBT_WAIT_MS} ms); answered as unavailable`);
        return false;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** One batch in the transaction it begins: lock, decide in arrival order, write; the caller commits. */
  private async applyBatch(c: PoolClient, batch: PendingUpdate[], shard: number): Promise<{ outcomes: Outcome[]; txid: number; claimed: UnitNonce[] }> {
    const ids = [...new Set(batch.map((b) => b.id))].sort();
    // Nonce claims in one INSERT, in key order (two batches claiming the same nonces never wait on each other in a cycle).
    const claims = batch.flatMap((b) => (b.nonce ? [{ key: claimKey(b.nonce.claim), n: b.nonce }] : [])).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const claimSql = claims.length
      ? ` INSERT INTO hawk_nonces (id_hmac, nonce, ts, claimed_at) VALUES ${claims.map(({ n }) => `(${[n.claim.idHmac, n.claim.nonce, n.claim.ts].map((v) => c.escapeLiteral(v)).join(', ')}, ${Math.trunc(n.at)})`).join(', ')} ON CONFLICT DO NOTHING RETURNING id_hmac, nonce, ts;`
      : ' SELECT 1 WHERE false;';
    // BEGIN, the transaction's id, the locks and the idempotency keys already stored (with their reports' fields: a
    // repeat is told from a key reused for another report), in one round trip: the simple query protocol takes
    // several statements but no parameters, so values are quoted by node-postgres's escapeLiteral.
    const keyed = batch.filter((b) => b.key !== undefined).map((b) => `(${c.escapeLiteral(b.id)}, ${c.escapeLiteral(b.key!)})`);
    const begun = (await c.query(
      `BEGIN; SELECT txid_current() AS txid; SELECT ${SESSION_LIST} FROM sessions WHERE id = ANY(ARRAY[${ids.map((id) => c.escapeLiteral(id)).join(', ')}]::text[]) ORDER BY id FOR NO KEY UPDATE;` +
        claimSql +
        (keyed.length
          ? ` SELECT session, idempotency_key, event, state, connections, send_streams, recv_streams FROM reports WHERE (session, idempotency_key) IN (${keyed.join(', ')})`
          : ' SELECT 1 WHERE false'),
    )) as unknown as Array<{ rows: Row[] }>;
    const txid = Number(begun[1].rows[0].txid);
    const current = new Map<string, SessionRecord>(begun[2].rows.map((r: Row) => [String(r.id), sessionFromRow(r)]));
    const fresh = new Set(begun[3].rows.map((r) => claimKey({ idHmac: String(r.id_hmac), nonce: String(r.nonce), ts: String(r.ts) })));
    const claimed: UnitNonce[] = [];
    // Keys are checked after the session's lock: a repeat from another process waits for the first to commit.
    const seen = new Map<string, StatusFields>(begun[4].rows.map((r) => [`${r.session}\u0000${r.idempotency_key}`, statusFieldsFromRow(r)]));
    const changed = new Set<string>();
    const reports: unknown[][] = [];
    const keys: Array<string | null> = [];
    const totals = new Map<string, number>();
    const delta = new RollupDelta();
    const outcomes = batch.map((call): Outcome => {
      // A nonce claimed before (or by an earlier call of this batch) fails the call, nothing written; else it stays claimed.
      if (call.nonce) {
        if (!fresh.delete(claimKey(call.nonce.claim))) return { ok: false, error: new NonceReplayedError() };
        claimed.push(call.nonce);
      }
      const session = current.get(call.id);
      if (!session) return { ok: true, value: undefined };
      const seenId = `${call.id}\u0000${call.key}`;
      let decision: SessionDecision<unknown>;
      try {
        decision = call.decide(structuredClone(session), seenKey(call.key === undefined ? undefined : seen.get(seenId)));
      } catch (error) {
        return { ok: false, error };
      }
      if (decision.kind === 'refuse') return { ok: true, value: decision.value };
      let next: SessionRecord;
      try {
        next = appliedSession(session, decision.changes, decision.report);
      } catch (error) {
        return { ok: false, error };
      }
      if (decision.report) {
        const r = decision.report;
        reports.push([
          session.id, next.reportCount, session.room, r.receivedAt, r.fromState, r.fields.event, r.fields.state,
          r.fields.connections, r.fields.sendStreams, r.fields.recvStreams, r.verdict, r.expected ? JSON.stringify(r.expected) : null,
        ]);
        keys.push(call.key ?? null);
        if (call.key !== undefined) seen.set(seenId, { ...r.fields });
        const key = JSON.stringify([r.labels.from, r.labels.event, r.labels.state, r.labels.verdict]);
        totals.set(key, (totals.get(key) ?? 0) + 1);
        delta.report(session, r);
      }
      delta.session(session, next);
      current.set(call.id, next);
      changed.add(call.id);
      return { ok: true, value: decision.value };
    });
    if (changed.size === 0) return { outcomes, txid, claimed };
    // All of the batch's writes in one statement (one round trip): session rows (already locked), reports,
    // then the running totals and the rollups in key order, after the sessions: the fixed order.
    const rows = [...changed].sort().map((id) => sessionValues(current.get(id)!));
    const sessionCol = (i: number) => rows.map((r) => r[i]);
    const reportCol = (i: number) => reports.map((r) => r[i]);
    const totalKeys = [...totals.keys()].sort();
    const parts = totalKeys.map((k) => JSON.parse(k) as string[]);
    const rolled = delta.rows();
    await c.query(
      `WITH updated AS (
         UPDATE sessions s SET display_name = u.display_name, expires_at = u.expires_at, ended_at = u.ended_at, end_reason = u.end_reason,
           end_state = u.end_state, state = u.state, connections = u.connections, send_streams = u.send_streams, recv_streams = u.recv_streams,
           first_reached = u.first_reached, report_count = u.report_count, non_conformant = u.non_conformant, state_since = u.state_since, path = u.path
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::int[], $9::int[], $10::int[], $11::jsonb[], $12::int[], $13::int[], $40::bigint[], $41::jsonb[])
           AS u(id, display_name, expires_at, ended_at, end_reason, end_state, state, connections, send_streams, recv_streams, first_reached, report_count, non_conformant, state_since, path)
         WHERE s.id = u.id
       ), inserted AS (
         INSERT INTO reports (session, seq, room, received_at, from_state, event, state, connections, send_streams, recv_streams, verdict, expected, idempotency_key)
         SELECT * FROM unnest($14::text[], $15::int[], $16::text[], $17::bigint[], $18::text[], $19::text[], $20::text[], $21::int[], $22::int[], $23::int[], $24::text[], $25::jsonb[], $32::text[])
       ), rolled AS (
         ${addRollupsSql(33, 42)}
       )
       INSERT INTO report_totals (shard, from_state, event, state, verdict, count)
       SELECT $26, * FROM unnest($27::text[], $28::text[], $29::text[], $30::text[], $31::bigint[])
       ON CONFLICT (shard, from_state, event, state, verdict) DO UPDATE SET count = report_totals.count + EXCLUDED.count`,
      [
        ...[0, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18].map(sessionCol),
        ...Array.from({ length: 12 }, (_, i) => reportCol(i)),
        shard,
        parts.map((p) => p[0]),
        parts.map((p) => p[1]),
        parts.map((p) => p[2]),
        parts.map((p) => p[3]),
        totalKeys.map((k) => totals.get(k)),
        keys,
        ...addRollupsParams(rolled, shard),
        // $40, $41: state_since, path (added with schema version 5).
        ...[19, 20].map(sessionCol),
        // $42: the rollups' overflow keys.
        overflowParam(rolled),
      ],
    );
    return { outcomes, txid, claimed };
  }
}
