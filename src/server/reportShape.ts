// One stored report as the server shows it: `export`, /v1/sessions/:id/reports and the traffic replay.
import type { SessionRecord, StoredReport } from './store';

/**
 * A stored report as export prints it (server spec section 3). `room` is the room's id (Hmacs.roomId), never the
 * token the report is stored under: a room token lets anyone join the room.
 */
export function exportShape(r: StoredReport, room: string) {
  return {
    room,
    session: r.session,
    seq: r.seq,
    receivedAt: new Date(r.receivedAt).toISOString(),
    report: { action: 'status' as const, ...r.fields },
    verdict: r.verdict,
    // Fields in one order whatever the store kept (PostgreSQL's jsonb orders keys its own way).
    ...(r.expected ? { expected: { state: r.expected.state, connections: r.expected.connections, sendStreams: r.expected.sendStreams, recvStreams: r.expected.recvStreams } } : {}),
  };
}

/**
 * One session's reports: as export prints them (/v1/sessions/:id/reports), or for the traffic replay (each with the
 * session's state before it).
 */
export function sessionReportsShape(session: SessionRecord, reports: readonly StoredReport[], form: 'export' | 'replay', room: string) {
  if (form === 'export') return { session: session.id, room, reports: reports.map((r) => exportShape(r, room)) };
  return {
    session: session.id,
    room,
    reports: reports.map((r) => {
      const { room: _room, session: _session, seq, ...shown } = exportShape(r, room);
      return { seq, from: r.fromState, ...shown };
    }),
  };
}
