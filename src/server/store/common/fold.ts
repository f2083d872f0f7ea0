/*
 * Folding old minutes (D-138): minute rollup rows older than a horizon are deleted; the hour rows (which already hold
 * the same counts) and the all-time rows stay, so no count is lost, only the minute resolution of old windows.
 *
 * The store keeps one settings row, MINUTE_ROLLUPS, with the fold's state:
 * - `from`: the oldest minute rows reads may use (an hour's start). Reads round a window end older than it to its hour.
 * - `at`: when `from` was last moved.
 * - `deleted`: minute rows before it are gone. Always <= `from`.
 * Minute rows are deleted only FOLD_GRACE_MS after `from` passed them, so a read that took the old `from` (reads are
 * cancelled or answered long before that) never misses a minute it counts on; ten minutes of minute rows per step, so a
 * write that deletes never holds the writer long. Pure: each store runs a step in one transaction of its own.
 */
import { BUCKET_MS, HOUR_MS } from './rollups';

/** How many days the minute rows are kept by default (serve --minute-rollups-days). */
export const DEFAULT_MINUTE_ROLLUPS_DAYS = 7;
/** The settings row's name. */
export const MINUTE_ROLLUPS = 'minute_rollups';
/** How long minute rows stay after reads stop using them (far above any read's timeout). */
export const FOLD_GRACE_MS = 10 * 60_000;
/** At most this much of minutes is deleted by one step. */
export const FOLD_STEP_MS = 10 * BUCKET_MS;

export interface FoldState {
  from: number;
  at: number;
  deleted: number;
}

export const NO_FOLD: FoldState = { from: 0, at: 0, deleted: 0 };

/** The settings row's value (none yet, or unreadable: nothing folded). */
export function parseFoldState(value: unknown): FoldState {
  if (typeof value !== 'string') return NO_FOLD;
  try {
    const v = JSON.parse(value) as Partial<FoldState>;
    const ok = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
    return ok(v.from) && ok(v.at) && ok(v.deleted) && v.deleted <= v.from ? { from: v.from, at: v.at, deleted: v.deleted } : NO_FOLD;
  } catch {
    return NO_FOLD;
  }
}

export type FoldStep =
  /** Delete minute rows in [from, to); then the state is `next`. */
  | { kind: 'delete'; from: number; to: number; next: FoldState }
  /** Reads stop using minutes before `next.from` now; they are deleted after the grace. */
  | { kind: 'publish'; next: FoldState }
  | { kind: 'idle' };

/**
 * The next step towards folding the minutes before `before` (rounded down to an hour), at `now`. `oldestMinute` is the
 * oldest minute bucket at or after `state.deleted` (undefined: none), so that a gap in the traffic is skipped at once.
 */
export function foldStep(state: FoldState, before: number, now: number, oldestMinute: number | undefined): FoldStep {
  if (state.deleted < state.from) {
    if (now - state.at < FOLD_GRACE_MS) return { kind: 'idle' };
    const start = oldestMinute === undefined ? state.from : Math.min(state.from, Math.max(state.deleted, Math.floor(oldestMinute / HOUR_MS) * HOUR_MS));
    const to = Math.min(state.from, start + FOLD_STEP_MS);
    return { kind: 'delete', from: start, to, next: { ...state, deleted: to } };
  }
  const cutoff = Math.floor(before / HOUR_MS) * HOUR_MS;
  if (cutoff <= state.from) return { kind: 'idle' };
  return { kind: 'publish', next: { from: cutoff, at: now, deleted: state.deleted } };
}
