// The sweep's store work (expiry, retention, folding) at volume: retention deletes in bounded steps that other writes
// go between, and every statement the sweep (and the figures' reads, and a report) runs reaches its rows through an
// index (D-143).
import type { RoomState } from '../../machines/domain';
import { loadBetterSqlite3 } from '../../src/server/peers';
import type { SessionRecord, Store } from '../../src/server/store';
import { SqliteStore } from '../../src/server/store/sqlite/store';
import { loadPg } from '../../src/server/store/postgres/connection';
import { roomRecord, sessionRecord } from './records';
import { ALL_STORES, freshSqliteInThread } from '../support/stores';
import { freshPostgres, pgAvailable } from '../support/postgres';

const CUTOFF = 1_000_000;

/** A report moving the session to `state` at `at`, ending it with it when `end` is given. */
const report = (state: RoomState, at: number, end?: number) => (cur: SessionRecord) => ({
  kind: 'apply' as const,
  value: null,
  changes: { snapshot: { ...cur.snapshot, state }, ...(end !== undefined ? { endedAt: end, endReason: 'left' as const, endState: state } : {}) },
  report: {
    receivedAt: at, fromState: cur.snapshot.state, fields: { event: 'e', state, connections: 0, sendStreams: 0, recvStreams: 0 },
    verdict: 'wrong-state' as const, labels: { from: cur.snapshot.state, event: 'other', state, verdict: 'wrong-state' as const },
  },
});
const STATES: RoomState[] = ['waiting', 'init', 'waiting', 'init'];

/** Sessions with four reports each, all before the cutoff and ended there, in a room; their ids. */
async function oldSessions(store: Store, room: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = sessionRecord(room, { joinedAt: 1000 + i, expiresAt: 5000 });
    await store.joinRoom(room, () => ({ kind: 'apply', value: s.id, end: [], create: s }));
    for (let k = 0; k < STATES.length; k++) await store.updateSession(s.id, report(STATES[k], 2000 + k, k === STATES.length - 1 ? 3000 : undefined));
    ids.push(s.id);
  }
  return ids;
}

/** What retention must leave and take: a gone room and a live one, 12 old sessions (48 reports), a recent session, Hawk sessions. */
async function history(store: Store) {
  const gone = roomRecord({ expiresAt: 5000 });
  const live = roomRecord({ ownerHmac: 'h-owner', expiresAt: 10 * CUTOFF });
  await store.createRoom(gone);
  await store.createRoom(live);
  const old = [...(await oldSessions(store, gone.token, 6)), ...(await oldSessions(store, live.token, 6))];
  const recent = sessionRecord(live.token, { joinedAt: CUTOFF + 1000, expiresAt: 10 * CUTOFF });
  await store.joinRoom(live.token, () => ({ kind: 'apply', value: recent.id, end: [], create: recent }));
  await store.updateSession(recent.id, report('waiting', CUTOFF + 2000));
  // Unused for long: three go; the live room's owner stays (it owns a room).
  for (const id of ['h-1', 'h-2', 'h-3', 'h-owner']) await store.createHawkSession({ idHmac: id, key: 'k', createdAt: 500, lastUsedAt: 500 });
  return { gone, live, old, recent };
}

describe.each(ALL_STORES)('retention in steps (%s)', (name, factory) => {
  // SQLite has one writer: what else is written waits for the step in progress, not for the whole run. (PostgreSQL
  // writes other rows alongside any transaction, so there the order of the two says nothing.)
  const oneWriter = name.startsWith('sqlite');
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ store, cleanup } = await factory());
  });
  afterEach(() => cleanup());

  it('deletes every old row in steps of at most the rows asked, reports first, and nothing newer', async () => {
    const h = await history(store);
    const result = await store.retain(CUTOFF, 5);
    expect(result).toEqual({ reports: 48, sessions: 12, rooms: 1, hawkSessions: 3,
      // 9 steps of 5 reports; the 10th takes the last 3 and 5 sessions; the 11th 5 sessions; the 12th the rest.
      steps: 12 });
    expect(await store.getRoom(h.gone.token)).toBeUndefined();
    expect(await store.getRoom(h.live.token)).toBeDefined();
    for (const id of h.old) expect(await store.getSession(id)).toBeUndefined();
    expect((await store.sessionReports(h.recent.id)).map((r) => r.receivedAt)).toEqual([CUTOFF + 2000]);
    expect(await store.getHawkSession('h-owner')).toBeDefined();
    expect(await store.getHawkSession('h-1')).toBeUndefined();
    // Nothing left: one step that finds nothing.
    expect(await store.retain(CUTOFF, 5)).toEqual({ reports: 0, sessions: 0, rooms: 0, hawkSessions: 0, steps: 1 });
  });

  it('lets other writes in between its steps: a report sent after retention began is stored before it ends', async () => {
    const h = await history(store);
    let retained = false;
    const retention = store.retain(CUTOFF, 1).then((r) => ((retained = true), r));
    await store.updateSession(h.recent.id, report('init', CUTOFF + 3000));
    if (oneWriter) expect(retained).toBe(false);
    expect((await retention).reports).toBe(48);
    expect((await store.sessionReports(h.recent.id)).length).toBe(2);
  });

  it('ends expired sessions in steps too: each at its expiry, only those, with other writes between the steps', async () => {
    const r = roomRecord();
    await store.createRoom(r);
    const expired = Array.from({ length: 7 }, (_, i) => sessionRecord(r.token, { joinedAt: 1000 + i, expiresAt: 2000 + i }));
    const open = sessionRecord(r.token, { joinedAt: 1500, expiresAt: 9000 });
    for (const s of [...expired, open]) await store.joinRoom(r.token, () => ({ kind: 'apply', value: s.id, end: [], create: s }));
    let done = false;
    const expiry = store.expireSessions(5000, 2).then((n) => ((done = true), n));
    await store.updateSession(open.id, report('waiting', 4000));
    if (oneWriter) expect(done).toBe(false);
    expect(await expiry).toBe(7);
    for (const s of expired) expect(await store.getSession(s.id)).toMatchObject({ endReason: 'expired', endedAt: s.expiresAt });
    expect((await store.getSession(open.id))?.endReason).toBeUndefined();
    expect(await store.expireSessions(5000, 2)).toBe(0);
  });

  it('refuses a step of no rows', async () => {
    await expect(store.retain(CUTOFF, 0)).rejects.toThrow(/sweep step must be a whole number of rows/);
    await expect(store.expireSessions(CUTOFF, 0)).rejects.toThrow(/sweep step must be a whole number of rows/);
  });
});

/** What reads figures (stats, traffic, /metrics, a replay, export), a report, then the sweep's calls, on `history`'s store. */
async function exercise(store: Store, h: Awaited<ReturnType<typeof history>>): Promise<void> {
  await store.stats({});
  await store.stats({ since: CUTOFF, until: CUTOFF + 3_600_000 });
  await store.metricsData([1, 5]);
  await store.sessionReplay(h.recent.id);
  for await (const r of store.exportReports({ room: h.live.token, since: CUTOFF })) expect(r.room).toBe(h.live.token);
  await store.updateSession(h.recent.id, report('init', CUTOFF + 3000), { idempotencyKey: 'k-1' });
  await store.expireSessions(CUTOFF);
  await store.retain(CUTOFF);
  await store.foldRollups(CUTOFF, CUTOFF);
}

describe('the sweep reaches its rows through indexes', () => {
  it('SQLite: no statement the sweep, the figures or a report runs scans a stored table, and expiry looks up open sessions by their expiry', async () => {
    const { sqlite: first, path, cleanup } = await freshSqliteInThread();
    const h = await history(first);
    await first.close();
    // A store of its own, so every statement is prepared (and seen) during the sweep.
    const Database = loadBetterSqlite3();
    const prepare = Database.prototype.prepare;
    const seen = new Set<string>();
    Database.prototype.prepare = function (this: InstanceType<typeof Database>, text: string) {
      seen.add(text);
      return prepare.call(this, text);
    } as typeof prepare;
    const store = new SqliteStore({ path });
    try {
      await store.open();
      seen.clear();
      await exercise(store, h);
    } finally {
      Database.prototype.prepare = prepare;
      await store.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      const plans = [...seen].filter((t) => /^\s*(SELECT|UPDATE|DELETE|INSERT|WITH)\b/i.test(t)).map((text) => ({
        text: text.replace(/\s+/g, ' ').slice(0, 90),
        plan: (db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...Array((text.match(/\?/g) ?? []).length).fill(0)) as Array<{ detail: string }>).map((r) => r.detail),
      }));
      expect(plans.length).toBeGreaterThan(5);
      // A table read row by row: not the rows of a subquery SQLite made ("SCAN (subquery-1)"), of json_each, of a
      // constant or of a recursive CTE's list of days, nor report_totals (one row per label set: bounded, read whole).
      const scans = (p: { plan: string[] }) => p.plan.some((d) => /^SCAN \w/.test(d) && !/^SCAN (json_each|CONSTANT ROW|d\b|report_totals\b)/.test(d));
      expect(plans.filter(scans)).toEqual([]);
      expect(plans.some((p) => /FROM rollups/.test(p.text))).toBe(true);
      const expiry = plans.find((p) => /^UPDATE sessions .*SET ended_at = expires_at/.test(p.text));
      expect(expiry?.plan.join(' | ')).toMatch(/sessions_open_expiry/);
    } finally {
      db.close();
      await cleanup();
    }
  });

  (pgAvailable() ? it : it.skip)('PostgreSQL: an index serves every statement the sweep, the figures or a report runs (none is a sequential scan with them disfavoured)', async () => {
    const { store, url, cleanup } = await freshPostgres();
    let h: Awaited<ReturnType<typeof history>>;
    const pg = loadPg();
    const query = pg.Client.prototype.query;
    const seen: Array<{ text: string; values: unknown[] }> = [];
    try {
      h = await history(store);
      pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
        const [first, second] = args as [string | { text: string; values?: unknown[] }, unknown];
        const text = typeof first === 'string' ? first : first?.text;
        const values = typeof first === 'string' ? (Array.isArray(second) ? second : []) : (first?.values ?? []);
        if (typeof text === 'string' && /^\s*(SELECT|UPDATE|DELETE|INSERT|WITH)\b/i.test(text)) seen.push({ text, values });
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof query;
      await exercise(store, h);
    } finally {
      pg.Client.prototype.query = query;
    }
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const c = await pool.connect();
      try {
        await c.query('ANALYZE');
        await c.query('SET enable_seqscan = off');
        const scans: string[] = [];
        for (const { text, values } of seen) {
          const plan = (await c.query(`EXPLAIN ${text}`, values)).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
          // report_totals: one row per label set, bounded, read whole.
          for (const m of plan.matchAll(/Seq Scan on (\w+)/g)) if (m[1] !== 'report_totals') scans.push(`${m[1]}: ${text.replace(/\s+/g, ' ').slice(0, 90)}`);
        }
        expect(seen.length).toBeGreaterThan(5);
        expect(scans).toEqual([]);
      } finally {
        c.release();
      }
    } finally {
      await pool.end();
      await cleanup();
    }
  });
});
