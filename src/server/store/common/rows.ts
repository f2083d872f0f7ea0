// Rows of either store's schema <-> the store contract's records. The two schemas hold the same columns; where their
// types differ, the readers here take both: a boolean is 1 (SQLite INTEGER) or true (PostgreSQL BOOLEAN), a JSON
// column is text (SQLite) or already parsed (PostgreSQL jsonb).
import type { RoomState } from '../../../../machines/domain';
import type { EndReason, HawkSessionRecord, ModelSnapshot, NewReport, ParticipantKind, RoomRecord, SessionRecord, StatusFields, StoredReport, Verdict } from '../contract';

export type Row = Record<string, unknown>;

const num = (v: unknown) => Number(v);
/** A nullable number column: undefined for NULL. */
export const optNumber = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
const bool = (v: unknown) => v === true || v === 1;
const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

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
  const deletedAt = optNumber(r.deleted_at);
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
    owner: bool(r.owner),
    joinedAt: num(r.joined_at),
    expiresAt: num(r.expires_at),
    snapshot: { state: r.state as RoomState, connections: num(r.connections), sendStreams: num(r.send_streams), recvStreams: num(r.recv_streams) },
    firstReached: { ...(json(r.first_reached) as Partial<Record<RoomState, number>>) },
    reportCount: num(r.report_count),
    nonConformantCount: num(r.non_conformant),
    stateSince: num(r.state_since),
    path: json(r.path) as RoomState[],
  };
  if (r.display_name !== null && r.display_name !== undefined) s.displayName = String(r.display_name);
  const clientMaxSize = optNumber(r.client_max_size);
  if (clientMaxSize !== undefined) s.clientMaxSize = clientMaxSize;
  const endedAt = optNumber(r.ended_at);
  if (endedAt !== undefined) s.endedAt = endedAt;
  if (r.end_reason !== null && r.end_reason !== undefined) s.endReason = r.end_reason as EndReason;
  if (r.end_state !== null && r.end_state !== undefined) s.endState = r.end_state as RoomState;
  return s;
}

/** A report row's status fields (its columns event, state, connections, send_streams, recv_streams). */
export function statusFieldsFromRow(r: Row): StatusFields {
  return { event: String(r.event), state: String(r.state), connections: num(r.connections), sendStreams: num(r.send_streams), recvStreams: num(r.recv_streams) };
}

export function reportFromRow(r: Row): StoredReport {
  const report: StoredReport = {
    room: String(r.room),
    session: String(r.session),
    seq: num(r.seq),
    receivedAt: num(r.received_at),
    fromState: r.from_state as RoomState,
    fields: statusFieldsFromRow(r),
    verdict: r.verdict as Verdict,
  };
  if (r.expected !== null && r.expected !== undefined) report.expected = json(r.expected) as ModelSnapshot;
  return report;
}

/** A session just ended, as the rollups count it (what the stores' UPDATE ... RETURNING ENDED_COLUMNS gives). */
export interface Ended {
  id: string;
  joinedAt: number;
  endedAt: number;
  state: string;
  stateSince: number;
  path: RoomState[];
}

/** What an UPDATE that ends sessions returns of each, for endedFromRow. */
export const ENDED_COLUMNS = ['id', 'joined_at', 'ended_at', 'end_state', 'state_since', 'path'] as const;

export function endedFromRow(r: Row): Ended {
  return { id: String(r.id), joinedAt: num(r.joined_at), endedAt: num(r.ended_at), state: String(r.end_state), stateSince: num(r.state_since), path: json(r.path) as RoomState[] };
}

/** A session's columns, in the order sessionValues gives them. */
export const SESSION_COLUMNS = [
  'id', 'room', 'kind', 'participant_hmac', 'token_hmac', 'display_name', 'owner', 'joined_at', 'expires_at', 'ended_at', 'end_reason', 'end_state',
  'state', 'connections', 'send_streams', 'recv_streams', 'first_reached', 'report_count', 'non_conformant', 'state_since', 'path',
  // Last: postgres/reportBatch.ts picks the columns it updates by their position here.
  'client_max_size',
] as const;

/** A session's values in SESSION_COLUMNS order (booleans as booleans: a dialect that has none converts them). */
export function sessionValues(s: SessionRecord): unknown[] {
  const ended = s.endedAt !== undefined;
  return [
    s.id, s.room, s.kind, s.participantHmac, s.tokenHmac, ended ? null : (s.displayName ?? null), s.owner, s.joinedAt, s.expiresAt,
    s.endedAt ?? null, s.endReason ?? null, ended ? (s.endState ?? s.snapshot.state) : null,
    s.snapshot.state, s.snapshot.connections, s.snapshot.sendStreams, s.snapshot.recvStreams, JSON.stringify(s.firstReached), s.reportCount, s.nonConformantCount,
    s.stateSince, JSON.stringify(s.path), s.clientMaxSize ?? null,
  ];
}

/**
 * The columns whose values differ between two versions of a session, with the new values. A report changes a few
 * columns; writing only those spares SQLite the index entries of the unchanged ones (each indexed column in an
 * UPDATE's SET list has its entry deleted and inserted again, however equal: four times the cost of the row itself).
 */
export function changedSessionColumns(before: SessionRecord, next: SessionRecord): { columns: string[]; values: unknown[] } {
  const old = sessionValues(before);
  const now = sessionValues(next);
  const columns: string[] = [];
  const values: unknown[] = [];
  for (let i = 1; i < now.length; i++) {
    if (now[i] !== old[i]) {
      columns.push(SESSION_COLUMNS[i]);
      values.push(now[i]);
    }
  }
  return { columns, values };
}

/** A room's columns, in the order roomValues gives them. */
export const ROOM_COLUMNS = ['token', 'name', 'owner', 'owner_hmac', 'max_size', 'created_at', 'expires_at', 'deleted_at'] as const;

export function roomValues(r: RoomRecord): unknown[] {
  return [r.token, r.name, r.owner, r.ownerHmac, r.maxSize, r.createdAt, r.expiresAt, r.deletedAt ?? null];
}

/** A report's columns, in the order reportValues gives them. */
export const REPORT_COLUMNS = ['session', 'seq', 'room', 'received_at', 'from_state', 'event', 'state', 'connections', 'send_streams', 'recv_streams', 'verdict', 'expected'] as const;

export function reportValues(session: SessionRecord, seq: number, r: NewReport): unknown[] {
  const f = r.fields;
  return [session.id, seq, session.room, r.receivedAt, r.fromState, f.event, f.state, f.connections, f.sendStreams, f.recvStreams, r.verdict, r.expected ? JSON.stringify(r.expected) : null];
}

/** `?, ?, ...` or `$1, $2, ...` for n values. */
export const placeholders = (n: number, dialect: 'sqlite' | 'postgres') => Array.from({ length: n }, (_, i) => (dialect === 'sqlite' ? '?' : `$${i + 1}`)).join(', ');
