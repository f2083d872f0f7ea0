// The migration runner both stores share: which versions to apply, in which order, and when to refuse.
import type { Migration } from '../contract';

/**
 * The migrations still to apply to a database at version `current`, oldest first. A database newer than every
 * migration known here is refused: an older server must not write rows a newer schema means differently.
 */
export function pendingMigrations(current: number, migrations: readonly Migration[], where: string): Migration[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const known = knownVersion(sorted);
  if (current > known) throw new Error(`${where} has schema version ${current}, newer than this server knows (${known}): upgrade loop-room-state`);
  return sorted.filter((m) => m.version > current);
}

/** The newest schema version this code knows. */
export const knownVersion = (migrations: readonly Migration[]): number => Math.max(0, ...migrations.map((m) => m.version));

/**
 * Why a write of a process that knows schema version `known` is refused by a database a newer process migrated to
 * `current` (the schema fence: its writes would not keep what the new schema keeps, e.g. rollups it does not know).
 */
export const schemaMovedOn = (current: number | string, known: number | string): string =>
  `the database was migrated to schema version ${current} by a newer loop-room-state; this process knows ${known} and may not write to it: stop it`;

/** The version a database says it is at, checked for reading only: a foreign or newer database is refused. */
export function readableVersion(current: number | undefined, migrations: readonly Migration[], where: string): number {
  if (current === undefined) throw new Error(`${where} is not a loop-room-state database (it has no schema_migrations table)`);
  pendingMigrations(current, migrations, where);
  return current;
}

/** One line for the log when a migration has been applied. */
export const appliedLine = (store: string, m: Migration) => `${store}: applied schema migration ${m.version} (${m.name})`;

/** The table of applied versions, the same in both dialects. */
export const SCHEMA_TABLE = 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)';
