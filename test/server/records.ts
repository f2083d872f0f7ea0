// Store records for the store suites: a room and a session with every field set, unique ids.
import type { NewSession, RoomRecord, SessionRecord } from '../../src/server/store';

let n = 0;

export function roomRecord(extra: Partial<RoomRecord> = {}): RoomRecord {
  return { token: `room${++n}`, name: 'r', owner: 'o', ownerHmac: 'oh', maxSize: 5, createdAt: 1000, expiresAt: 10_000_000, ...extra };
}

/** An open Basic session in `room`, joined at a time later than the previous one's; in its state since its join, as a store creates it. */
export function sessionRecord(room: string, extra: Partial<SessionRecord> = {}): SessionRecord {
  const id = extra.id ?? `s${++n}`;
  const s: NewSession = {
    id,
    room,
    kind: 'basic',
    participantHmac: `p-${id}`,
    tokenHmac: `t-${id}`,
    displayName: 'Alice',
    clientMaxSize: 2,
    owner: false,
    joinedAt: 1000 + ++n,
    expiresAt: 5_000_000,
    snapshot: { state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 },
    firstReached: {},
    reportCount: 0,
    nonConformantCount: 0,
    ...extra,
  };
  return { ...s, stateSince: s.joinedAt, path: [s.snapshot.state], ...extra };
}
