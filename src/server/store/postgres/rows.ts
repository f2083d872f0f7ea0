// Session records -> rows of the PostgreSQL schema (rows -> records: ../rows.ts, shared with SQLite).
import type { SessionRecord } from '../types';

/** The session's columns in the order SESSION_COLUMNS lists them. */
export const SESSION_COLUMNS = [
  'id', 'room', 'kind', 'participant_hmac', 'token_hmac', 'display_name', 'owner', 'joined_at', 'expires_at', 'ended_at', 'end_reason', 'end_state',
  'state', 'connections', 'send_streams', 'recv_streams', 'first_reached', 'report_count', 'non_conformant',
] as const;

export function sessionToRow(s: SessionRecord): unknown[] {
  return [
    s.id, s.room, s.kind, s.participantHmac, s.tokenHmac, s.endedAt === undefined ? (s.displayName ?? null) : null, s.owner, s.joinedAt, s.expiresAt,
    s.endedAt ?? null, s.endReason ?? null, s.endedAt === undefined ? null : (s.endState ?? s.snapshot.state),
    s.snapshot.state, s.snapshot.connections, s.snapshot.sendStreams, s.snapshot.recvStreams, JSON.stringify(s.firstReached), s.reportCount, s.nonConformantCount,
  ];
}
