// Rows of the PostgreSQL schema <-> the store contract's records.
import type { RoomState } from '../../../../machines/domain';
import type { EndReason, HawkSessionRecord, ModelSnapshot, ParticipantKind, RoomRecord, SessionRecord, StoredReport, Verdict } from '../types';

export type Row = Record<string, unknown>;

const num = (v: unknown) => Number(v);
const optNum = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));

export function hawkFromRow(r: Row): HawkSessionRecord {
  return { idHmac: String(r.id_hmac), key: String(r.key), createdAt: num(r.created_at), lastUsedAt: num(r.last_used_at) };
}

export function roomFromRow(r: Row): RoomRecord {
  const room: RoomRecord = {
    token: String(r.token),
    name: String(r.name),
    owner: String(r.owner),
    ownerHmac: String(r.owner_hmac),
    maxSize: num(r.max_size),
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
  };
  const deletedAt = optNum(r.deleted_at);
  if (deletedAt !== undefined) room.deletedAt = deletedAt;
  return room;
}

export function sessionFromRow(r: Row): SessionRecord {
  const s: SessionRecord = {
    id: String(r.id),
    room: String(r.room),
    kind: r.kind as ParticipantKind,
    participantHmac: String(r.participant_hmac),
    tokenHmac: String(r.token_hmac),
    owner: Boolean(r.owner),
    joinedAt: num(r.joined_at),
    expiresAt: num(r.expires_at),
    snapshot: { state: r.state as RoomState, connections: num(r.connections), sendStreams: num(r.send_streams), recvStreams: num(r.recv_streams) },
    firstReached: { ...(r.first_reached as Partial<Record<RoomState, number>>) },
    reportCount: num(r.report_count),
    nonConformantCount: num(r.non_conformant),
  };
  if (r.display_name !== null && r.display_name !== undefined) s.displayName = String(r.display_name);
  const endedAt = optNum(r.ended_at);
  if (endedAt !== undefined) s.endedAt = endedAt;
  if (r.end_reason !== null && r.end_reason !== undefined) s.endReason = r.end_reason as EndReason;
  if (r.end_state !== null && r.end_state !== undefined) s.endState = r.end_state as RoomState;
  return s;
}

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

export function reportFromRow(r: Row): StoredReport {
  const report: StoredReport = {
    room: String(r.room),
    session: String(r.session),
    seq: num(r.seq),
    receivedAt: num(r.received_at),
    fromState: r.from_state as RoomState,
    fields: { event: String(r.event), state: String(r.state), connections: num(r.connections), sendStreams: num(r.send_streams), recvStreams: num(r.recv_streams) },
    verdict: r.verdict as Verdict,
  };
  if (r.expected !== null && r.expected !== undefined) report.expected = r.expected as ModelSnapshot;
  return report;
}
