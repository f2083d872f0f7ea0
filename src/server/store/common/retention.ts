/*
 * The sweep's writes in bounded steps (D-143). Each step changes at most `limit` rows in a transaction of its own,
 * so reports and joins are written between steps instead of waiting behind one statement over a whole day's rows
 * (or months of them, the first time retention runs on an older store; or every open session, after an outage).
 * Expiry ends at most `limit` sessions a step. Retention deletes from one table after another, in the order reports,
 * the sessions ended before the cutoff (their reports are gone by then), the rooms no session refers to any more,
 * the Hawk sessions that own no room and are in no open session. Both stores run the same steps.
 */

/**
 * Schema version 8's indexes, the same on both stores: a gone room's remaining sessions (ended ones included) and
 * the rooms gone before the cutoff, so that retention looks them up instead of scanning.
 */
export const SWEEP_INDEX_STATEMENTS: readonly string[] = [
  'CREATE INDEX sessions_room ON sessions (room)',
  'CREATE INDEX rooms_expires ON rooms (expires_at)',
  'CREATE INDEX rooms_deleted ON rooms (deleted_at) WHERE deleted_at IS NOT NULL',
];

/** Rows one step deletes at most (a few ms of the writer: a delete costs a few µs a row and index). */
export const RETAIN_STEP_ROWS = 2000;

export const RETENTION_ORDER = ['reports', 'sessions', 'rooms', 'hawkSessions'] as const;
export type RetentionTable = (typeof RETENTION_ORDER)[number];

/** What retention deleted, by table, and in how many steps. */
export type RetentionCounts = Record<RetentionTable, number> & { steps: number };

/** One step's outcome: rows deleted by table; `more` when a table had more rows than the step took. */
export interface RetentionStep {
  deleted: Partial<Record<RetentionTable, number>>;
  more: boolean;
}

/** A step over the tables in order: deletes from each until one fills the step (then there is more). */
export function retentionStep(limit: number, remove: (table: RetentionTable) => number): RetentionStep {
  const deleted: RetentionStep['deleted'] = {};
  for (const table of RETENTION_ORDER) {
    const n = remove(table);
    deleted[table] = n;
    if (n >= limit) return { deleted, more: true };
  }
  return { deleted, more: false };
}

/** The same for a store whose deletes are asynchronous (PostgreSQL). */
export async function retentionStepAsync(limit: number, remove: (table: RetentionTable) => Promise<number>): Promise<RetentionStep> {
  const deleted: RetentionStep['deleted'] = {};
  for (const table of RETENTION_ORDER) {
    const n = await remove(table);
    deleted[table] = n;
    if (n >= limit) return { deleted, more: true };
  }
  return { deleted, more: false };
}

/**
 * Runs steps of at most `stepRows` rows (checked; default RETAIN_STEP_ROWS) until one finds no more, each awaited in
 * turn (other writes go between them); the totals.
 */
export async function retainInSteps(stepRows: number | undefined, step: (limit: number) => Promise<RetentionStep>): Promise<RetentionCounts> {
  const limit = stepLimit(stepRows);
  const total: RetentionCounts = { reports: 0, sessions: 0, rooms: 0, hawkSessions: 0, steps: 0 };
  for (;;) {
    const { deleted, more } = await step(limit);
    total.steps++;
    for (const table of RETENTION_ORDER) total[table] += deleted[table] ?? 0;
    if (!more) return total;
  }
}

/** Runs `step` (at most `stepRows` rows, checked as above, in a transaction of its own) until one does fewer; how many rows in all. */
export async function stepsUntilShort(stepRows: number | undefined, step: (limit: number) => Promise<number>): Promise<number> {
  const limit = stepLimit(stepRows);
  let total = 0;
  for (;;) {
    const n = await step(limit);
    total += n;
    if (n < limit) return total;
  }
}

/** A step's row limit as given (tests use small ones), checked. */
function stepLimit(limit: number | undefined): number {
  const n = limit ?? RETAIN_STEP_ROWS;
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`a sweep step must be a whole number of rows >= 1, got ${String(limit)}`);
  return n;
}
