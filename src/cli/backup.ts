import { UsageError, parseArgs } from './args';
import type { Command } from './command';

export const backup: Command = {
  name: 'backup',
  summary: 'copy a live SQLite store to a file, consistently, while the server runs (SQLite\'s backup API)',
  usage: [
    'loop-room-state backup --db PATH --to FILE',
    '',
    '  --db  the SQLite store (the file serve --db uses); the server may keep running and writing',
    '  --to  the copy to make (must not exist yet); written next to it first, then renamed into place',
    '',
    'The copy is one consistent moment of the store: every report acknowledged before the backup began is in it.',
    'Copying the file with cp while the server runs is not safe (reports still in the -wal file are lost).',
    'Restore: stop the server, put the copy in place of the store file (and remove any old -wal and -shm files), start it.',
  ].join('\n'),
  async run(argv, io) {
    const { flags } = parseArgs(argv, { db: 'value', to: 'value' });
    if (typeof flags.db !== 'string') throw new UsageError('--db PATH is required (the live SQLite store)');
    // Not echoed: a URL may hold a password.
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(flags.db) || /^postgres(ql)?:/i.test(flags.db)) {
      throw new UsageError('--db takes the path of a SQLite store; a PostgreSQL store is backed up with pg_dump (see docs/operations.md)');
    }
    if (typeof flags.to !== 'string') throw new UsageError('--to FILE is required (where the copy goes)');
    const { backupSqlite } = await import('../server/backup');
    const { pages, to } = await backupSqlite(flags.db, flags.to);
    io.out(`Backed up ${flags.db} to ${to} (${pages} pages, integrity checked)`);
    return 0;
  },
};
