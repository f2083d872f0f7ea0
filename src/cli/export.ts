import { UsageError, parseArgs } from './args';
import type { Command, CommandIO } from './command';

export const exportReports: Command = {
  name: 'export',
  summary: "print the room server's stored status reports, one JSON object per line, oldest first",
  usage: [
    'loop-room-state export [--db PATH | --store URL] [--room TOKEN] [--since ISO-TIME]',
    '',
    '  --db     SQLite file (default ./loop-room-state.db)',
    '  --store  sqlite:PATH or postgres://...',
    '  --room   only this room\'s reports',
    '  --since  only reports received at or after this time (e.g. 2026-01-31T00:00:00Z)',
    '',
    'Each line: {"room","session","seq","receivedAt","report":{...},"verdict","expected"?}. No tokens, keys or addresses.',
  ].join('\n'),
  async run(argv, io) {
    const { flags } = parseArgs(argv, { db: 'value', store: 'value', room: 'value', since: 'value' });
    let since: number | undefined;
    if (flags.since !== undefined) {
      since = typeof flags.since === 'string' && /^\d{4}-\d{2}-\d{2}/.test(flags.since) ? Date.parse(flags.since) : NaN;
      if (Number.isNaN(since)) throw new UsageError('--since must be an ISO time such as 2026-01-31T12:00:00Z');
    }
    const room = typeof flags.room === 'string' ? flags.room : undefined;
    const { chooseStore } = await import('../server/store');
    const { exportShape } = await import('../server/reportShape');
    const chosen = chooseStore({ db: typeof flags.db === 'string' ? flags.db : undefined, store: typeof flags.store === 'string' ? flags.store : undefined }, undefined, { inThread: true });
    const { existsSync } = await import('node:fs');
    if (flags.store === undefined && !existsSync(typeof flags.db === 'string' ? flags.db : './loop-room-state.db')) throw new Error('no such database file (pass --db PATH)');
    const write = lineWriter(io);
    // Read only: export never migrates or writes the store (an older schema is read as it is, a newer one refused).
    try {
      await chosen.store.openReadOnly();
      // Rooms are shown by id, a stable HMAC of the token under the server's secret (spec section 3).
      const { Hmacs } = await import('../server/secrets');
      const secret = process.env.LOOP_ROOM_STATE_SECRET || (await chosen.store.storedSecret());
      if (!secret) throw new Error('the store keeps no server secret (its server ran with LOOP_ROOM_STATE_SECRET): set the same LOOP_ROOM_STATE_SECRET for export');
      const hmacs = new Hmacs(secret);
      for await (const r of chosen.store.exportReports({ ...(room ? { room } : {}), ...(since !== undefined ? { since } : {}) })) {
        if (!(await write(JSON.stringify(exportShape(r, hmacs.roomId(r.room)))))) break;
      }
    } finally {
      await chosen.store.close();
    }
    return 0;
  },
};

/**
 * Writes one line; resolves false once the reader went away (`export | head` closes the pipe early: stop quietly).
 * On a stream it waits while the reader is behind (back-pressure), so memory stays flat however slow the reader.
 */
function lineWriter(io: CommandIO): (line: string) => Promise<boolean> {
  const out = io.stdout;
  if (!out) {
    return async (line) => {
      io.out(line);
      return true;
    };
  }
  let closed = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    closed = true;
    wake?.();
  };
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') stop();
  });
  out.on('close', stop);
  out.on('drain', () => wake?.());
  return async (line) => {
    if (closed) return false;
    if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
    return !closed;
  };
}
