// Folding old minutes (D-138), the steps alone: a minute row a read may count on is never deleted while the read can
// still be running, every minute before the horizon goes in the end, and nothing at or after it ever does.
import fc from 'fast-check';
import { foldStep, FOLD_GRACE_MS, NO_FOLD, parseFoldState, type FoldState } from '../../src/server/store/common/fold';
import { BUCKET_MS, HOUR_MS } from '../../src/server/store/common/rollups';

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
