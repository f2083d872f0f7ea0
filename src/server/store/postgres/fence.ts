// The schema fence (D-145): a process writes only to a database whose schema it knows. During a rolling upgrade
// the first new process migrates the shared database while old ones still run; their writes would go on without
// what the new schema keeps (rollups they do not know drift from the rows), so PostgreSQL itself refuses them.
// Each process names the newest version it knows in a setting of its connections; a statement trigger on every
// table compares it with the version the database was last migrated to.
import type { Migration } from '../contract';
import { schemaMovedOn } from '../common/migrate';
import type { Queryable } from './connection';

/** The connection setting that carries the newest schema version a process knows. */
export const FENCE_SETTING = 'loop_room.schema_version';
/** The SQLSTATE of a write the fence refused (a class of our own: the store counts as unavailable, 503). */
export const FENCED_SQLSTATE = 'LR001';

/** Whether a PostgreSQL error is the fence's refusal: the connection is sound, the process is too old to write. */
export const isFenced = (err: unknown): boolean => (err as { code?: unknown })?.code === FENCED_SQLSTATE;

/** Startup options naming `version` in FENCE_SETTING, after the URL's own `options` if it has any. */
export const fenceOptions = (version: number, own?: string | null): string => [own, `-c ${FENCE_SETTING}=${version}`].filter(Boolean).join(' ');

/**
 * A pool's connection string and startup options naming `version`: node-postgres takes `options` from the URL over
 * the config's, so the URL's own are moved into ours.
 */
export function fencedConnection(connectionString: string, version: number): { connectionString: string; options: string } {
  const u = new URL(connectionString);
  const own = u.searchParams.get('options');
  u.searchParams.delete('options');
  return { connectionString: u.toString(), options: fenceOptions(version, own) };
}

/** The tables the migrations create (their writes are fenced), in the order they are created. */
export function fencedTables(migrations: readonly Migration[]): string[] {
  const names = migrations.flatMap((m) => m.statements.flatMap((s) => [...s.matchAll(/\bCREATE TABLE (?:IF NOT EXISTS )?(\w+)/gi)].map((x) => x[1].toLowerCase())));
  return [...new Set(names)];
}

/**
 * Before a migration's own statements, in its transaction: every table is locked as its statements will need it
 * (ACCESS EXCLUSIVE: an ALTER TABLE's), all at once, so the migration never waits for a stronger lock while a
 * running process's report batch holds a weaker one and waits for it (that was a deadlock, again on every retry,
 * under load). Everyone else waits for its commit (writers are then refused by the fence it installs). The lock is
 * waited for at most MIGRATION_LOCK_WAIT: a long transaction of another process (an export) holds the migration
 * back, not every request queued behind it; the caller tries again (MIGRATION_ATTEMPTS, MIGRATION_BACKOFF_MS).
 */
export async function holdWriters(c: Queryable, tables: readonly string[]): Promise<void> {
  const present = (await c.query('SELECT t FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i) WHERE to_regclass(quote_ident(t)) IS NOT NULL ORDER BY i', [tables])).rows.map((r) => r.t as string);
  if (present.length === 0) return;
  await c.query(`SET LOCAL lock_timeout = '${MIGRATION_LOCK_WAIT}'`);
  await c.query(`LOCK TABLE ${present.map((t) => `"${t}"`).join(', ')} IN ACCESS EXCLUSIVE MODE`);
  await c.query('SET LOCAL lock_timeout = 0');
}

export const MIGRATION_LOCK_WAIT = '2s';
/** A migration that could not have its locks (lock_timeout, 55P03) or lost a deadlock tries again, up to about 5 minutes. */
export const MIGRATION_ATTEMPTS = 100;
export const MIGRATION_BACKOFF_MS = 1000;
export const isLockWait = (err: unknown) => (err as { code?: unknown })?.code === '55P03';

/**
 * After the migrations, in their transaction: from its commit, a statement that writes any table is refused
 * (FENCED_SQLSTATE: the store counts as unavailable, 503) on a connection naming a version older than `version`. A connection that
 * names none (an operator's psql) writes as before.
 */
export async function installFence(c: Queryable, tables: readonly string[], version: number): Promise<void> {
  const message = schemaMovedOn(version, '%').replace(/'/g, "''");
  await c.query(`CREATE OR REPLACE FUNCTION loop_room_fence() RETURNS trigger LANGUAGE plpgsql AS $fence$
    DECLARE known int := NULLIF(current_setting('${FENCE_SETTING}', true), '')::int;
    BEGIN
      IF known < ${Number(version)} THEN
        RAISE EXCEPTION '${message}', known USING ERRCODE = '${FENCED_SQLSTATE}';
      END IF;
      RETURN NULL;
    END $fence$`);
  // Created where missing, never dropped: dropping takes a stronger lock than holdWriters', and waiting for it
  // behind an older process's reads would deadlock with that process's next write.
  const unfenced = await c.query(
    `SELECT t FROM unnest($1::text[]) AS u(t) WHERE to_regclass(quote_ident(t)) IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'loop_room_fence' AND tgrelid = to_regclass(quote_ident(t)))`,
    [tables],
  );
  for (const { t } of unfenced.rows) {
    await c.query(`CREATE TRIGGER loop_room_fence BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON "${t}" FOR EACH STATEMENT EXECUTE FUNCTION loop_room_fence()`);
  }
}
