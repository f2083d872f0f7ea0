// Hawk sessions under retention: counted from their last use (recorded at most once per HAWK_TOUCH_INTERVAL_MS),
// kept while they own a room or are the participant of an open session; and a database made at schema version 2
// upgrades with its Hawk sessions usable. Both stores; the server's clock is injected (a fixed start plus what
// the test moves it by) so stored times are exact. Hawk timestamps themselves stay on the real clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { createRoom, deriveHawkCredentials, joinRoom, registerHawkSession } from '../../src/index';
import { HAWK_TOUCH_INTERVAL_MS } from '../../src/server/auth';
import { loadBetterSqlite3 } from '../../src/server/peers';
import { Hmacs } from '../../src/server/secrets';
import { SqliteStore } from '../../src/server/store/sqlite/store';
import { SQLITE_MIGRATIONS } from '../../src/server/store/sqlite/migrations';
import { POSTGRES_MIGRATIONS } from '../../src/server/store/postgres/migrations';
import { loadPg } from '../../src/server/store/postgres/connection';
import type { HawkCredentials } from '../../src/transport/hawk';
import { sharedPgCluster } from '../support/postgres';
import { STORES, type FreshStore } from '../support/stores';
import { expectError, post, startServer, type TestServer } from './helpers';

const DAY = 86_400_000;
const SECRET = 'hawk-retention-test-secret';
const hmacs = new Hmacs(SECRET);
/** The schema version before Hawk sessions recorded their last use. */
const PREVIOUS = 2;

let t0 = 0;
let offset = 0;
const clock = () => t0 + offset;
beforeEach(() => {
  t0 = Date.now();
  offset = 0;
});

const stored = (server: TestServer, c: HawkCredentials) => server.fresh.store.getHawkSession(hmacs.hawkId(c.id));
/** The cheapest Hawk request: POST /registration with credentials answers 200 and creates nothing. */
const use = (server: TestServer, c: HawkCredentials) => post(`${server.serverUrl}/registration`, {}, { hawk: c });

describe.each(STORES)('Hawk session retention (%s)', (name, factory) => {
  it('counts from the last use, and keeps the owner of a kept room and the participant of an open session', async () => {
    const server = await startServer(factory, {
      retainDays: 90,
      secret: SECRET,
      now: clock,
      participantTtlMs: 365 * DAY,
      roomExpiryHours: { default: 720, max: 24 * 365 },
    });
    try {
      const [used, unused, owner, participant] = await Promise.all([1, 2, 3, 4].map(() => registerHawkSession(server.serverUrl)));
      const room = (await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'r', roomOwner: 'o', expiresIn: 24 * 200 })).roomToken;
      const joined = await joinRoom({ serverUrl: server.serverUrl, roomToken: room, displayName: 'p', auth: { type: 'hawk', credentials: participant.credentials } });

      offset = 89 * DAY;
      expect((await use(server, used.credentials)).status).toBe(200);
      expect(await stored(server, used.credentials)).toMatchObject({ createdAt: t0, lastUsedAt: t0 + 89 * DAY });
      expect(await stored(server, unused.credentials)).toMatchObject({ createdAt: t0, lastUsedAt: t0 });

      offset = 100 * DAY;
      await server.room.sweep();
      // Created 100 days ago, last used 11 days ago: kept. Never used since its registration: gone.
      expect((await use(server, used.credentials)).status).toBe(200);
      expect(await stored(server, unused.credentials)).toBeUndefined();
      expectError(await use(server, unused.credentials), 401, 110);
      // Not used for 100 days either, but one owns a room still kept and the other is in an open session.
      expect(await stored(server, owner.credentials)).toMatchObject({ lastUsedAt: t0 });
      expect(await stored(server, participant.credentials)).toMatchObject({ lastUsedAt: t0 });

      // Its session ended (a Basic leave: no Hawk use), the participant's Hawk session goes at the next sweep.
      expect((await post(`${server.serverUrl}/rooms/${room}`, { action: 'leave' }, { basic: joined.sessionToken })).status).toBe(204);
      await server.room.sweep();
      expect(await stored(server, participant.credentials)).toBeUndefined();
      expect(await stored(server, owner.credentials)).toBeDefined();

      // The room expired (day 200) before the cutoff (day 210): it goes, and its owner with it in the same sweep.
      offset = 300 * DAY;
      await server.room.sweep();
      expect(await server.fresh.store.getRoom(room)).toBeUndefined();
      expect(await stored(server, owner.credentials)).toBeUndefined();
      expect(await stored(server, used.credentials)).toBeUndefined();
      expectError(await use(server, owner.credentials), 401, 110);
    } finally {
      await server.stop();
    }
  });

  it('records a use at most once per interval, only for genuine requests (model: the stored lastUsedAt)', async () => {
    const server = await startServer(factory, { secret: SECRET, now: clock });
    const I = HAWK_TOUCH_INTERVAL_MS;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              gap: fc.oneof(fc.constantFrom(0, 1, I - 1, I, I + 1), fc.integer({ min: 0, max: 2 * I })),
              // A request with a wrong key: 401, and no use recorded.
              forged: fc.boolean(),
            }),
            { minLength: 1, maxLength: 6 },
          ),
          async (steps) => {
            offset = 0;
            const s = await registerHawkSession(server.serverUrl);
            let expected = t0;
            expect((await stored(server, s.credentials))?.lastUsedAt).toBe(expected);
            for (const step of steps) {
              offset += step.gap;
              if (step.forged) {
                const wrong = { ...s.credentials, key: randomBytes(32).toString('hex') };
                expectError(await use(server, wrong), 401, 110);
              } else {
                expect((await use(server, s.credentials)).status).toBe(200);
                if (clock() - expected >= I) expected = clock();
              }
              expect((await stored(server, s.credentials))?.lastUsedAt).toBe(expected);
            }
          },
        ),
        { numRuns: 12 },
      );
    } finally {
      await server.stop();
    }
  });

  it(`a database made at schema version ${PREVIOUS} upgrades: its Hawk sessions start with lastUsedAt = createdAt and stay usable`, async () => {
    const old = await previousSchema(name);
    let fresh: FreshStore | undefined;
    try {
      const token = randomBytes(32).toString('hex');
      const credentials = await deriveHawkCredentials(token);
      const idHmac = hmacs.hawkId(credentials.id);
      const createdAt = t0 - 100 * DAY;
      await old.insertHawkSession(idHmac, credentials.key, createdAt);
      fresh = await old.upgrade();
      expect(await fresh.store.schemaVersion()).toBe(SQLITE_MIGRATIONS.at(-1)!.version);
      expect(await fresh.store.getHawkSession(idHmac)).toEqual({ idHmac, key: credentials.key, createdAt, lastUsedAt: createdAt });
      const upgraded = fresh;
      const server = await startServer(async () => upgraded, { retainDays: 90, secret: SECRET, now: clock });
      try {
        expect((await use(server, credentials)).status).toBe(200);
        expect(await stored(server, credentials)).toEqual({ idHmac, key: credentials.key, createdAt, lastUsedAt: t0 });
        // Created 100 days ago, used now: retention keeps it.
        await server.room.sweep();
        const room = await createRoom({ serverUrl: server.serverUrl, credentials, roomName: 'after upgrade', roomOwner: 'o' });
        expect(room.roomToken).toMatch(/^[\w-]{11}$/);
      } finally {
        await server.stop();
        fresh = undefined;
      }
    } finally {
      await fresh?.cleanup();
      await old.remove();
    }
  });
});

interface PreviousSchema {
  /** A Hawk session row as the previous version stored it (no last use). */
  insertHawkSession(idHmac: string, key: string, createdAt: number): Promise<void>;
  /** The same database opened by the current store (migrations applied). */
  upgrade(): Promise<FreshStore>;
  remove(): Promise<void>;
}

/** An empty database at schema version PREVIOUS, made by the store itself with the migrations up to it. */
async function previousSchema(name: string): Promise<PreviousSchema> {
  if (name === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'loop-room-migrate-'));
    const path = join(dir, 'rooms.db');
    const before = new SqliteStore({ path, migrations: SQLITE_MIGRATIONS.filter((m) => m.version <= PREVIOUS) });
    await before.open();
    expect(await before.schemaVersion()).toBe(PREVIOUS);
    await before.close();
    return {
      insertHawkSession: async (idHmac, key, createdAt) => {
        const Database = loadBetterSqlite3();
        const db = new Database(path);
        db.prepare('INSERT INTO hawk_sessions (id_hmac, key, created_at) VALUES (?, ?, ?)').run(idHmac, key, createdAt);
        db.close();
      },
      upgrade: async () => {
        const store = new SqliteStore({ path });
        await store.open();
        return { store, cleanup: () => store.close() };
      },
      remove: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const { createPostgresStore } = await import('../../src/server/store/postgres/store');
  const url = await (await sharedPgCluster()).createDatabase();
  const before = createPostgresStore(url, { migrations: POSTGRES_MIGRATIONS.filter((m) => m.version <= PREVIOUS) });
  await before.open();
  expect(await before.schemaVersion()).toBe(PREVIOUS);
  await before.close();
  return {
    insertHawkSession: async (idHmac, key, createdAt) => {
      const pool = new (loadPg().Pool)({ connectionString: url, max: 1 });
      try {
        await pool.query('INSERT INTO hawk_sessions (id_hmac, key, created_at) VALUES ($1, $2, $3)', [idHmac, key, createdAt]);
      } finally {
        await pool.end();
      }
    },
    upgrade: async () => {
      const store = createPostgresStore(url);
      await store.open();
      return { store, cleanup: () => store.close() };
    },
    remove: async () => {},
  };
}
