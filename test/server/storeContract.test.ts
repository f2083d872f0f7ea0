// The store contract, the same on both stores: what the server relies on whatever the database.
import type { SessionRecord, Store } from '../../src/server/store';
import { roomRecord, sessionRecord } from './records';
import { ALL_STORES } from '../support/stores';

const room = roomRecord;
const session = (roomToken: string, extra: Partial<SessionRecord> = {}) => sessionRecord(roomToken, { firstReached: { init: 1000 }, ...extra });

const join = (store: Store, s: SessionRecord) => store.joinRoom(s.room, () => ({ kind: 'apply', value: s.id, end: [], create: s }));

describe.each(ALL_STORES)('store contract (%s)', (_name, factory) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await factory());
  });
  afterAll(() => cleanup());

  it('keeps every field of a room, a deletion time included', async () => {
    const deleted = room({ deletedAt: 4242 });
    await store.createRoom(deleted);
    expect(await store.getRoom(deleted.token)).toEqual(deleted);
    const kept = room();
    await store.createRoom(kept);
    expect(await store.getRoom(kept.token)).toEqual(kept);
  });

  it("answers a participant's open session, the latest joined should there be several", async () => {
    const r = room();
    await store.createRoom(r);
    const first = session(r.token, { participantHmac: 'same', joinedAt: 2000 });
    const second = session(r.token, { participantHmac: 'same', joinedAt: 3000 });
    await join(store, first);
    await join(store, second);
    expect((await store.openSessionOf(r.token, 'same'))?.id).toBe(second.id);
    expect(await store.openSessionOf(r.token, 'nobody')).toBeUndefined();
  });

  it('times its write commits for the metrics, whatever the write', async () => {
    store.takeCommitTimes?.();
    await store.createRoom(room());
    const times = store.takeCommitTimes?.() ?? [];
    expect(times.length).toBeGreaterThanOrEqual(1);
    expect(times.every((t) => t >= 0)).toBe(true);
  });

  it('replays a session: its id, room and reports; nothing for an unknown session', async () => {
    const r = room();
    await store.createRoom(r);
    const s = session(r.token);
    await join(store, s);
    expect(await store.sessionReplay(s.id)).toEqual({ session: s.id, room: r.token, reports: [] });
    expect(await store.sessionReplay('no-such-session')).toBeUndefined();
  });
});
