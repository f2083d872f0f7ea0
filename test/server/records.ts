// Store records for the store suites: a room and a session with every field set, unique ids.
import type { RoomRecord, SessionRecord } from '../../src/server/store';

let n = 0;

export function roomRecord(extra: Partial<RoomRecord> = {}): RoomRecord {
  return { token: `room${++n}`, name: 'r', owner: 'o', ownerHmac: 'oh', maxSize: 5, createdAt: 1000, expiresAt: 10_000_000, ...extra };
}

/** An open Basic session in `room`, joined at a time later than the previous one's. */
export function sessionRecord(room: string, extra: Partial<SessionRecord> = {}): SessionRecord {
  const id = extra.id ?? `s${++n}`;
  return {
    id,
    room,
    kind: 'basic',
    participantHmac: `p-${id}`,
    tokenHmac: `t-${id}`,
    displayName: 'Alice',
    owner: false,
    joinedAt: 1000 + ++n,
    expiresAt: 5_000_000,
    snapshot: { state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 },
    firstReached: {},
    reportCount: 0,
    nonConformantCount: 0,
    ...extra,
  };
}
