// The store contract, the same on both stores: what the server relies on whatever the database.
import fc from 'fast-check';
import { ROOM_STATES, type RoomState } from '../../machines/domain';
import { NonceReplayedError, type SessionDecision, type SessionRecord, type Store, type UnitNonce } from '../../src/server/store';
import { appliedSession } from '../../src/server/store/common/session';
import { PATH_MAX_STATES } from '../../src/traffic/wire';
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

  it("keeps when a session entered its state and its path itself: a report that changes the state moves them, nothing else does", async () => {
    const r = room();
    await store.createRoom(r);
    const s = session(r.token, { joinedAt: 5000 });
    // What the caller says of them is not taken: a new session is in its state since its join.
    await store.joinRoom(r.token, () => ({ kind: 'apply', value: s.id, end: [], create: { ...s, stateSince: 1, path: ['cleanup' as const] } }));
    const to = (state: RoomState, at: number) => (cur: SessionRecord) => ({
      kind: 'apply' as const,
      value: 'ok',
      changes: { snapshot: { ...cur.snapshot, state } },
      report: {
        receivedAt: at, fromState: cur.snapshot.state, fields: { event: 'e', state, connections: 0, sendStreams: 0, recvStreams: 0 },
        verdict: 'wrong-state' as const, labels: { from: cur.snapshot.state, event: 'other', state, verdict: 'wrong-state' as const },
      },
    });
    const kept = async () => {
      const x = (await store.getSession(s.id))!;
      return { stateSince: x.stateSince, path: x.path };
    };
    expect(await kept()).toEqual({ stateSince: 5000, path: ['init'] });
    await store.updateSession(s.id, to('waiting', 6000));
    await store.updateSession(s.id, to('waiting', 7000));
    expect(await kept()).toEqual({ stateSince: 6000, path: ['init', 'waiting'] });
    // A change of state without its report has no time: refused, nothing written.
    await expect(store.updateSession(s.id, (cur) => ({ kind: 'apply', value: 'no', changes: { snapshot: { ...cur.snapshot, state: 'starting' } } }))).rejects.toThrow(/report/);
    expect({ ...(await kept()), state: (await store.getSession(s.id))!.snapshot.state }).toEqual({ stateSince: 6000, path: ['init', 'waiting'], state: 'waiting' });
    // The path keeps one state past PATH_MAX_STATES (it tells the path went on), then stops growing.
    const walk: RoomState[] = ['starting', 'sendrecv', 'sending', 'sendrecv', 'receiving', 'sendrecv', 'cleanup', 'waiting', 'init'];
    for (const [i, st] of walk.entries()) await store.updateSession(s.id, to(st, 8000 + i));
    expect(await kept()).toEqual({ stateSince: 8000 + walk.length - 1, path: ['init', 'waiting', ...walk].slice(0, PATH_MAX_STATES + 1) });
  });

  it('reads back every change a unit of work makes, whichever fields it changes (property)', async () => {
    const r = room();
    await store.createRoom(r);
    type Changes = NonNullable<Extract<SessionDecision<null>, { kind: 'apply' }>['changes']>;
    const unitArb = fc.record(
      {
        expiresAt: fc.integer({ min: 1, max: 9_000_000 }),
        snapshot: fc.record({ state: fc.constantFrom(...ROOM_STATES), connections: fc.nat(3), sendStreams: fc.nat(3), recvStreams: fc.nat(3) }),
        firstReached: fc.dictionary(fc.constantFrom(...ROOM_STATES), fc.nat(9_000_000)),
        nonConformantCount: fc.nat(50),
        report: fc.constant(true),
      },
      { requiredKeys: [] },
    );
    const endArb = fc.option(fc.record({ endedAt: fc.integer({ min: 1, max: 9_000_000 }), endReason: fc.constantFrom('left' as const, 'expired' as const, 'deleted' as const) }), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(fc.array(unitArb, { maxLength: 6 }), endArb, async (units, end) => {
        const s = session(r.token, { participantHmac: `prop-${Math.random()}` });
        await join(store, s);
        let expected = (await store.getSession(s.id))!;
        for (const [i, u] of [...units, ...(end ? [end] : [])].entries()) {
          const { report: withReport, ...changes } = u as Changes & { report?: boolean };
          await store.updateSession(s.id, (cur) => {
            const snapshot = changes.snapshot ?? cur.snapshot;
            // A change of state comes with its report (the contract's rule).
            const report = withReport || snapshot.state !== cur.snapshot.state
              ? { receivedAt: 6000 + i, fromState: cur.snapshot.state, fields: { event: 'e', ...snapshot }, verdict: 'conformant' as const, labels: { from: cur.snapshot.state, event: 'other', state: snapshot.state, verdict: 'conformant' as const } }
              : undefined;
            expected = appliedSession(cur, changes, report);
            return { kind: 'apply', value: null, changes, ...(report ? { report } : {}) };
          });
          const got = (await store.getSession(s.id))!;
          const ended = expected.endedAt !== undefined;
          expect(got).toEqual({
            ...expected,
            // An ended session keeps no display name; it ended in the state it was in.
            displayName: ended ? undefined : expected.displayName,
            ...(ended ? { endState: expected.endState ?? expected.snapshot.state } : {}),
          });
          // The open-session lookups (partial indexes on the end) follow the end.
          expect((await store.openSessionOf(r.token, s.participantHmac))?.id).toBe(ended ? undefined : s.id);
        }
      }),
      { numRuns: 25 },
    );
  });

  it("decides on the rows it writes, whatever the caller says it knew of the session; a unit's nonce is claimed once (property)", async () => {
    const r = room();
    await store.createRoom(r);
    const report = (cur: SessionRecord, at: number) => ({
      receivedAt: at, fromState: cur.snapshot.state, fields: { event: 'e', ...cur.snapshot }, verdict: 'conformant' as const,
      labels: { from: cur.snapshot.state, event: 'other', state: cur.snapshot.state, verdict: 'conformant' as const },
    });
    // What a decision depends on: the report count (refuse on a multiple of three), the end, and the key seen.
    const decide = (cur: SessionRecord, seen: { repeated: boolean }): SessionDecision<string> =>
      cur.endedAt !== undefined ? { kind: 'refuse', value: 'ended' }
      : seen.repeated ? { kind: 'apply', value: 'repeat', changes: { expiresAt: cur.expiresAt + 1 } }
      : cur.reportCount % 3 === 2 ? { kind: 'refuse', value: `refused at ${cur.reportCount}` }
      : { kind: 'apply', value: `stored as ${cur.reportCount + 1}`, report: report(cur, 7000 + cur.reportCount) };
    const stepArb = fc.record({ kind: fc.constantFrom('report', 'bump', 'end'), known: fc.nat(), key: fc.option(fc.nat(3), { nil: undefined }) });
    let nonces = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 8 }), async (steps) => {
        const s = session(r.token, { participantHmac: `known-${Math.random()}` });
        await join(store, s);
        const versions = [(await store.getSession(s.id))!];
        const keys = new Set<string>();
        for (const step of steps) {
          const before = (await store.getSession(s.id))!;
          if (step.kind === 'bump') {
            // A count the decision depends on moves without the caller knowing (refusals turn to acceptances).
            await store.updateSession(s.id, (cur) => ({ kind: 'apply', value: null, report: report(cur, 6000) }));
          } else if (step.kind === 'end' && before.endedAt === undefined && step.known % 4 === 0) {
            await store.updateSession(s.id, () => ({ kind: 'apply', value: null, changes: { endedAt: 9000, endReason: 'left' } }));
          }
          const now = (await store.getSession(s.id))!;
          versions.push(now);
          const key = step.key === undefined ? undefined : `k${step.key}`;
          const want = decide(now, { repeated: key !== undefined && keys.has(key) });
          // What the caller knew: any version of this session, the current one or an older one.
          const known = versions[step.known % versions.length];
          // Every unit carries a Hawk nonce claim; nonce and ts are the client's text (quotes and backslashes are data).
          const nonce: UnitNonce = { claim: { idHmac: 'h'.repeat(64), nonce: `unit-${++nonces}-${Math.random()}'"\\;--`, ts: "1'" }, at: Date.now(), windowMs: 120_000 };
          const got = await store.updateSession(s.id, decide, { ...(key ? { idempotencyKey: key } : {}), known, nonce });
          expect(got).toBe(want.value);
          if (store.claimsNoncesInUnits) {
            // Claimed when the unit wrote, never twice across its rounds (that would fail it as a replay), and
            // standing exactly when the store says so. A unit sent again with it is refused and writes nothing.
            if (want.kind === 'apply') expect(nonce.claimed).toBe(true);
            expect(await store.claimHawkNonce!(nonce.claim, nonce.at, nonce.windowMs)).toBe(!nonce.claimed);
            const replay = store.updateSession(s.id, () => ({ kind: 'apply', value: 'replayed', changes: { expiresAt: 1 } }), { nonce: { ...nonce, claimed: false } });
            await expect(replay).rejects.toBeInstanceOf(NonceReplayedError);
          }
          if (key && want.kind === 'apply' && want.report) keys.add(key);
          const after = (await store.getSession(s.id))!;
          expect(after.reportCount).toBe(now.reportCount + (want.kind === 'apply' && want.report ? 1 : 0));
          expect(after.expiresAt).toBe(want.kind === 'apply' && want.changes?.expiresAt !== undefined ? want.changes.expiresAt : now.expiresAt);
          versions.push(after);
        }
      }),
      { numRuns: 30 },
    );
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
