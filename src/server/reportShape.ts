// One stored report as the server shows it: `export`, /v1/sessions/:id/reports and the traffic replay.
import type { StoredReport } from './store';

/** A stored report as export prints it (server spec section 3). */
export function exportShape(r: StoredReport) {
  return {
    room: r.room,
    session: r.session,
    seq: r.seq,
    receivedAt: new Date(r.receivedAt).toISOString(),
    report: { action: 'status' as const, ...r.fields },
    verdict: r.verdict,
    ...(r.expected ? { expected: r.expected } : {}),
  };
}
