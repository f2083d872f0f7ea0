import { UsageError, parseArgs } from './args';
import type { Command } from './command';

export const migrateStore: Command = {
  name: 'migrate-store',
  summary: 'copy everything from one store to another (SQLite to PostgreSQL and back), all or nothing, checked by counts',
  usage: [
    'loop-room-state migrate-store --from PATH|URL --to PATH|URL',
    '',
    '  --from  the store to copy: a SQLite file (or sqlite:PATH) or postgres://...',
    '  --to    the store to fill: a new SQLite file, or an empty PostgreSQL database',
    '',
    'Copies rooms, sessions, reports, rollups and running totals, Hawk sessions and nonces, and the server secret',
    '(so every room, session and Hawk token stays valid). Both stores are first brought to this version\'s schema.',
    'The target is written in one transaction and compared with the source (rows per table) before it commits: a',
    'copy that fails or does not match leaves the target as it was. A target that already holds rooms, sessions or',
    'reports is refused. Stop the servers writing to the source first (or the copy is of the moment it began).',
  ].join('\n'),
  async run(argv, io) {
    const { flags } = parseArgs(argv, { from: 'value', to: 'value' });
    if (typeof flags.from !== 'string') throw new UsageError('--from PATH|URL is required (the store to copy)');
    if (typeof flags.to !== 'string') throw new UsageError('--to PATH|URL is required (the store to fill)');
    if (flags.from === flags.to) throw new UsageError('--from and --to name the same store');
    const { chooseStore } = await import('../server/store');
    const { openCopySide, storeRef } = await import('../server/store/copy/open');
    const { copyStore } = await import('../server/store/copy/copy');
    const { existsSync } = await import('node:fs');
    const from = storeRef(flags.from);
    if (from.kind === 'sqlite' && !existsSync(from.path)) throw new Error(`no such SQLite file: ${from.path}`);
    // Both named correctly before either is opened (opening migrates a store's schema).
    const stores = [from, storeRef(flags.to)].map((t) => chooseStore(t.kind === 'sqlite' ? { db: t.path } : { store: t.url }, undefined, { inThread: true }).store);
    // Both at this version's schema (the target is created when it does not exist).
    for (const store of stores) {
      await store.open();
      await store.close();
    }
    const source = await openCopySide(flags.from, 'source');
    try {
      const target = await openCopySide(flags.to, 'target');
      try {
        const counts = await copyStore(source, target, (line) => io.err(line));
        for (const c of counts) io.out(`${c.table.padEnd(14)} ${c.measure.padEnd(12)} ${String(c.source).padStart(10)} -> ${String(c.target).padStart(10)}`);
        io.out('migrate-store: done; every table matches its source');
      } finally {
        await target.close();
      }
    } finally {
      await source.close();
    }
    return 0;
  },
};

