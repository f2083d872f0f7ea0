// Shared by the service tests: a session against a test room server, with every emitted event recorded.
import type { RoomServer } from '../support/fakeLoopServer';
import { createRoomSession, type ReportDelivered, type RoomSession } from '../../src/service/roomSession';
import type { RoomSessionOptions } from '../../src/service/options';
import type { RoomAnomaly } from '../../machines/domain';
import type { RoomSessionError } from '../../src/transport/errors';

export type AuthKind = 'basic' | 'hawk';

export interface Recorded {
  session: RoomSession;
  reports: ReportDelivered[];
  anomalies: RoomAnomaly[];
  errors: RoomSessionError[];
}

/** Short bounds so retries take milliseconds, not seconds. */
export const FAST = { timeoutMs: 1000, retry: { attempts: 6, baseDelayMs: 2, maxDelayMs: 20 } };

export function authFor(server: RoomServer, kind: AuthKind): RoomSessionOptions['auth'] {
  return kind === 'basic' ? { type: 'basic', sessionToken: server.sessionToken } : { type: 'hawk', credentials: server.hawk };
}

export function recordedSession(server: RoomServer, kind: AuthKind, extra: Partial<RoomSessionOptions> = {}): Recorded {
  const session = createRoomSession({ roomToken: server.roomToken, serverUrl: server.serverUrl, auth: authFor(server, kind), ...FAST, ...extra });
  const r: Recorded = { session, reports: [], anomalies: [], errors: [] };
  session.on('report', (x) => r.reports.push(x));
  session.on('anomaly', (x) => r.anomalies.push(x));
  session.on('error', (x) => r.errors.push(x));
  return r;
}

export const ev = (type: string) => ({ type }) as { type: never };
