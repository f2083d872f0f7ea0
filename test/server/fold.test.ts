// Folding old minutes (D-138), the steps alone: a minute row a read may count on is never deleted while the read can
// still be running, every minute before the horizon goes in the end, and nothing at or after it ever does.
import fc from 'fast-check';
import { foldStep, FOLD_GRACE_MS, FOLD_STEP_MS, MINUTE_ROLLUPS, NO_FOLD, parseFoldState, type FoldState } from '../../src/server/store/common/fold';
import { BUCKET_MS, DAY_MS, HOUR_MS } from '../../src/server/store/common/rollups';
import { loadPg } from '../../src/server/store/postgres/connection';
import { createPostgresStore } from '../../src/server/store/postgres/store';
import { freshPostgres, pgAvailable } from '../support/postgres';

const T0 = Date.parse('2026-05-01T00:00:00Z');

/** A plain check (expect() in a loop of thousands of steps costs seconds). */
function check(ok: boolean, what: string, step: unknown): void {
  if (!ok) throw new Error(`${what}: ${JSON.stringify(step)}`);
}

describe('foldStep', () => {
  it('never deletes a minute a read taken less than FOLD_GRACE_MS ago counts on; catches up with the horizon', () => {
    fc.assert(
      fc.property(
        // Sweeps: time passing (up to an hour), how far back the minutes are kept (in minutes), the oldest minute stored.
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: HOUR_MS }), keepMinutes: fc.integer({ min: 0, max: 3 * 24 * 60 }) }), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 0, max: 5 * 24 * 60 }),
        (sweeps, oldestMinutes) => {
          let state: FoldState = NO_FOLD;
          let now = T0 + 6 * 24 * HOUR_MS;
          // What reads took as the oldest minute they may use, and when.
          const published: Array<{ at: number; from: number }> = [{ at: -Infinity, from: 0 }];
          let oldest = T0 + oldestMinutes * BUCKET_MS;
          const run = (before: number) => {
            const step = foldStep(state, before, now, oldest);
            if (step.kind === 'idle') return false;
            if (step.kind === 'delete') {
              // A read may still run if it started within the last FOLD_GRACE_MS: it took the horizon published then, or
              // the one that was current when that time began. Each is at or after the end of what goes.
              const current = published.filter((p) => p.at <= now - FOLD_GRACE_MS).pop()!;
              const live = [current, ...published.filter((p) => p.at > now - FOLD_GRACE_MS)];
              check(live.every((p) => step.to <= p.from) && step.from <= step.to, 'deleted minutes a read may count on', step);
              if (step.to > oldest) oldest = step.to;
            } else published.push({ at: now, from: step.next.from });
            const n = step.next;
            check(n.deleted <= n.from && n.from % HOUR_MS === 0 && n.from <= before, 'a horizon past the cut or off the hour', step);
            state = step.next;
            return true;
          };
          let before = 0;
          for (const s of sweeps) {
            now += s.dt;
            before = Math.max(before, now - s.keepMinutes * BUCKET_MS);
            for (let i = 0; i < 24 && run(before); i++);
          }
          // Given time, every minute before the horizon goes (an hour per step).
          const horizon = Math.floor(before / HOUR_MS) * HOUR_MS;
          for (let i = 0; i < 10_000 && !(state.deleted === state.from && state.from === horizon); i++) if (!run(before)) now += FOLD_GRACE_MS;
          expect(state).toMatchObject({ deleted: horizon, from: horizon });
        },
      ),
    );
  });

  it('reads a missing or damaged settings row as nothing folded', () => {
    expect(parseFoldState(undefined)).toEqual(NO_FOLD);
    expect(parseFoldState('{')).toEqual(NO_FOLD);
    expect(parseFoldState(JSON.stringify({ from: 10, at: 5, deleted: 20 }))).toEqual(NO_FOLD);
    expect(parseFoldState(JSON.stringify({ from: 20, at: 5, deleted: 10 }))).toEqual({ from: 20, at: 5, deleted: 10 });
  });
});

(pgAvailable() ? describe : describe.skip)('folding on PostgreSQL from two stores at once (two processes to the database)', () => {
  it('the steps take turns (the settings row is locked): every old minute goes once, hours and days stay', async () => {
    const a = await freshPostgres();
    const b = createPostgresStore(a.url);
    await b.open();
    const db = new (loadPg().Pool)({ connectionString: a.url, max: 1 });
    try {
      // Three days of minutes (and their hours and days) for 5 keys, two shards, written as the writes would.
      const start = T0 - 3 * 24 * HOUR_MS;
      await db.query(
        `INSERT INTO rollups (bucket, kind, key, shard, count, sum, example)
         SELECT b, 'verdict', '["k' || k || '"]', s, count(*), 0, NULL
         FROM generate_series($1::bigint, $1::bigint + ${3 * 24 * HOUR_MS - BUCKET_MS}, ${BUCKET_MS}) AS m,
              LATERAL (VALUES (m), (m / ${HOUR_MS} * ${HOUR_MS} + 1), (m / ${DAY_MS} * ${DAY_MS} + 2)) AS v(b),
              generate_series(1, 5) AS k, generate_series(0, 1) AS s
         GROUP BY b, k, s`,
        [start],
      );
      const count = async (where: string) => Number((await db.query(`SELECT count(*) AS n FROM rollups WHERE ${where}`)).rows[0].n);
      const hours = await count(`bucket % ${BUCKET_MS} = 1`);
      const days = await count(`bucket % ${BUCKET_MS} = 2`);
      const before = T0 - 24 * HOUR_MS;
      const loop = async (store: typeof b, now: number) => {
        let steps = 0;
        while (await store.foldRollups(before, now)) steps++;
        return steps;
      };
      // Both publish (one moves the horizon, the other finds it moved), then both delete after the grace.
      await Promise.all([loop(a.store, T0), loop(b, T0)]);
      const steps = await Promise.all([loop(a.store, T0 + FOLD_GRACE_MS), loop(b, T0 + FOLD_GRACE_MS)]);
      // Two days of minutes in ten-minute steps, shared between the two.
      expect(steps[0] + steps[1]).toBe((2 * 24 * HOUR_MS) / FOLD_STEP_MS);
      expect(await count(`bucket >= 0 AND bucket % ${BUCKET_MS} = 0 AND bucket < ${before}`)).toBe(0);
      expect(await count(`bucket % ${BUCKET_MS} = 0`)).toBe(24 * 60 * 5 * 2);
      expect([await count(`bucket % ${BUCKET_MS} = 1`), await count(`bucket % ${BUCKET_MS} = 2`)]).toEqual([hours, days]);
      const state = parseFoldState((await db.query(`SELECT value FROM settings WHERE name = '${MINUTE_ROLLUPS}'`)).rows[0].value);
      expect(state).toMatchObject({ from: before, deleted: before });
    } finally {
      await db.end();
      await b.close();
      await a.cleanup();
    }
  }, 60_000);
});
