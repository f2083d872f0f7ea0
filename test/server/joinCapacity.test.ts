// A room's capacity, as loop-server's getClientMaxSize/canJoinRoom (loop/routes/rooms.js): the smallest of its
// maxSize and the clientMaxSize of every participant open in it (the joiner's own excluded), less a spot kept for the
// owner while the owner is not in. Both stores; and a session stored before schema version 9 (no clientMaxSize)
// bounds nothing. The server's clock is the real one plus what a test moves it by (Hawk's 60 s window allows it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRoom, registerHawkSession, type HawkSession } from '../../src/index';
import { loadBetterSqlite3 } from '../../src/server/peers';
import { loadPg } from '../../src/server/store/postgres/connection';
import { POSTGRES_MIGRATIONS } from '../../src/server/store/postgres/migrations';
import { SQLITE_MIGRATIONS } from '../../src/server/store/sqlite/migrations';
import { SqliteStore } from '../../src/server/store/sqlite/store';
import { sharedPgCluster } from '../support/postgres';
import { STORES, type StoreFactory } from '../support/stores';
import { expectError, post, startServer, type RawAnswer, type TestServer } from './helpers';

const TTL_MS = 10_000;
let offset = 0;
const clock = () => Date.now() + offset;
beforeEach(() => {
  offset = 0;
});

/** Joins and leaves of one room, answered as they come. */
function roomOf(server: TestServer, owner: HawkSession, token: string) {
  const url = `${server.serverUrl}/rooms/${token}`;
  return {
    token,
    join: (clientMaxSize: number, displayName = 'g') => post(url, { action: 'join', displayName, clientMaxSize }),
    joinAsOwner: (clientMaxSize: number) => post(url, { action: 'join', displayName: 'owner', clientMaxSize }, { hawk: owner.credentials }),
    leave: (a: RawAnswer) => post(url, { action: 'leave' }, { basic: a.json().sessionToken }),
    refresh: (a: RawAnswer) => post(url, { action: 'refresh' }, { basic: a.json().sessionToken }),
    leaveAsOwner: () => post(url, { action: 'leave' }, { hawk: owner.credentials }),
  };
}

const joined = (a: RawAnswer) => {
  expect([a.status, a.text]).toEqual([200, expect.stringContaining('"sessionToken"')]);
  return a;
};
const full = (a: RawAnswer) => expectError(a, 400, 202, 'The room is full.');

describe.each(STORES)('join capacity (%s)', (_name, factory) => {
  let server: TestServer;
  let owner: HawkSession;
  beforeAll(async () => {
    server = await startServer(factory, { participantTtlMs: TTL_MS, now: clock });
    owner = await registerHawkSession(server.serverUrl);
  });
  afterAll(() => server.stop());
  const newRoom = async (maxSize: number) =>
    roomOf(server, owner, (await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'capacity', roomOwner: 'o', maxSize })).roomToken);

  it("a participant's clientMaxSize 2 makes a maxSize 5 room full at two, until that participant leaves", async () => {
    const r = await newRoom(5);
    joined(await r.joinAsOwner(2));
    const guest = joined(await r.join(2));
    // Firefox Hello's two-party call: loop-server refuses a third, whatever the third can show.
    full(await r.join(5, 'third'));
    // Full comes before the joiner's own clientMaxSize (errno 121), as loop-server checks them.
    full(await r.join(2, 'third'));
    expect((await r.leave(guest)).status).toBe(204);
    const third = joined(await r.join(5, 'third'));
    // The owner's 2 still bounds the room.
    full(await r.join(5, 'fourth'));
    expect((await r.leaveAsOwner()).status).toBe(204);
    // Left: only the third's 5 and the owner's spot remain.
    const fourth = joined(await r.join(5, 'fourth'));
    const stored = await server.fresh.store.getSession(third.json().roomConnectionId);
    expect(stored?.clientMaxSize).toBe(5);
    for (const a of [third, fourth]) expect((await r.leave(a)).status).toBe(204);
  });

  it('an expired participant bounds the room no longer', async () => {
    const r = await newRoom(5);
    const first = joined(await r.join(5, 'first'));
    const small = joined(await r.join(2, 'small'));
    // min(5, 5, 2) = 2, one of them kept for the owner: no spot for another guest.
    full(await r.join(5, 'third'));
    offset = TTL_MS / 2;
    expect((await r.refresh(first)).status).toBe(200);
    offset = TTL_MS + 1;
    // The small one expired (never refreshed); the first one is still in.
    const third = joined(await r.join(5, 'third'));
    expect((await server.fresh.store.getSession(small.json().roomConnectionId))?.endReason).toBe('expired');
    expect((await server.fresh.store.getSession(first.json().roomConnectionId))?.endedAt).toBeUndefined();
    for (const a of [first, third]) expect((await r.leave(a)).status).toBe(204);
  });

  it("the owner's spot is kept within the smaller capacity, and the owner takes it", async () => {
    const r = await newRoom(5);
    const a = joined(await r.join(3, 'a'));
    const b = joined(await r.join(3, 'b'));
    // Capacity min(5, 3, 3) = 3, one of them the owner's.
    full(await r.join(5, 'c'));
    joined(await r.joinAsOwner(5));
    full(await r.join(5, 'c'));
    // The owner's own clientMaxSize not above the others' count is still 121 (when the room has a spot).
    expect((await r.leave(b)).status).toBe(204);
    expectError(await r.joinAsOwner(1), 400, 121);
    // A rejoin replaces the joiner's session, so its old clientMaxSize no longer counts.
    joined(await r.joinAsOwner(2));
    joined(await r.joinAsOwner(5));
    const c = joined(await r.join(5, 'c'));
    for (const x of [a, c]) expect((await r.leave(x)).status).toBe(204);
    expect((await r.leaveAsOwner()).status).toBe(204);
  });

  it("a guest whose clientMaxSize just fits those already in leaves no spot for the owner, as in loop-server", async () => {
    const r = await newRoom(5);
    const a = joined(await r.join(3, 'a'));
    // 2 is above the one already in: b joins, and min(5, 3, 2) = 2 is now taken by the two guests.
    const b = joined(await r.join(2, 'b'));
    full(await r.joinAsOwner(5));
    expect((await r.leave(b)).status).toBe(204);
    joined(await r.joinAsOwner(5));
    expect((await r.leave(a)).status).toBe(204);
    expect((await r.leaveAsOwner()).status).toBe(204);
  });
});

/** A database at schema version 8 holding an open room and an open session of its owner, then the current store on it. */
interface Version8 {
  /** Runs one statement with positional values (`?` on SQLite, `$n` on PostgreSQL). */
  exec(sql: { sqlite: string; postgres: string }, values: unknown[]): Promise<void>;
  upgraded: StoreFactory;
  remove(): void;
}

async function version8(name: string): Promise<Version8> {
  if (name === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'loop-room-capacity-'));
    const path = join(dir, 'rooms.db');
    const before = new SqliteStore({ path, migrations: SQLITE_MIGRATIONS.filter((m) => m.version <= 8) });
    await before.open();
    expect(await before.schemaVersion()).toBe(8);
    await before.close();
    return {
      exec: async (sql, values) => {
        const db = new (loadBetterSqlite3())(path);
        try {
          db.prepare(sql.sqlite).run(...values.map((v) => (typeof v === 'boolean' ? Number(v) : v)));
        } finally {
          db.close();
        }
      },
      upgraded: async () => {
        const store = new SqliteStore({ path });
        await store.open();
        return { store, cleanup: () => store.close() };
      },
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const { createPostgresStore } = await import('../../src/server/store/postgres/store');
  const url = await (await sharedPgCluster()).createDatabase();
  const before = createPostgresStore(url, { migrations: POSTGRES_MIGRATIONS.filter((m) => m.version <= 8) });
  await before.open();
  expect(await before.schemaVersion()).toBe(8);
  await before.close();
  return {
    exec: async (sql, values) => {
      const pool = new (loadPg().Pool)({ connectionString: url, max: 1 });
      try {
        await pool.query(sql.postgres, values);
      } finally {
        await pool.end();
      }
    },
    upgraded: async () => {
      const store = createPostgresStore(url);
      await store.open();
      return { store, cleanup: () => store.close() };
    },
    remove: () => {},
  };
}

const both = (columns: string[], table: string) => ({
  sqlite: `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
  postgres: `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
});

describe.each(STORES.map(([name]) => [name]))('join capacity across the schema migration (%s)', (name) => {
  it('a session stored at schema version 8 has no clientMaxSize and bounds nothing', async () => {
    const old = await version8(name);
    let server: TestServer | undefined;
    try {
      const now = Date.now();
      const token = 'OldRoom_v8A';
      await old.exec(both(['token', 'name', 'owner', 'owner_hmac', 'max_size', 'created_at', 'expires_at'], 'rooms'), [token, 'old', 'o', 'owner-hmac', 3, now, now + 3_600_000]);
      const sessionColumns = ['id', 'room', 'kind', 'participant_hmac', 'token_hmac', 'display_name', 'owner', 'joined_at', 'expires_at', 'state', 'connections', 'send_streams',
        'recv_streams', 'first_reached', 'report_count', 'non_conformant', 'state_since', 'path'];
      await old.exec(both(sessionColumns, 'sessions'), [
        'old-session', token, 'hawk', 'owner-hmac', 'old-token-hmac', 'Owner', true, now, now + 3_600_000, 'init', 0, 0, 0, JSON.stringify({ init: now }), 0, 0, now, '["init"]',
      ]);
      server = await startServer(old.upgraded);
      expect(await server.fresh.store.schemaVersion()).toBe(9);
      const stored = await server.fresh.store.getSession('old-session');
      expect(stored?.endedAt).toBeUndefined();
      expect(stored).not.toHaveProperty('clientMaxSize');
      // The owner is in (no spot to keep) and says nothing: maxSize 3 alone bounds the room.
      const url = `${server.serverUrl}/rooms/${token}`;
      const a = await post(url, { action: 'join', displayName: 'a', clientMaxSize: 5 });
      expect(a.status).toBe(200);
      const b = await post(url, { action: 'join', displayName: 'b', clientMaxSize: 5 });
      expect(b.status).toBe(200);
      expectError(await post(url, { action: 'join', displayName: 'c', clientMaxSize: 5 }), 400, 202, 'The room is full.');
      expect((await server.fresh.store.getSession(a.json().roomConnectionId))?.clientMaxSize).toBe(5);
    } finally {
      await server?.stop();
      old.remove();
    }
  });
});
