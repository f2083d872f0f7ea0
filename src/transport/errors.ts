// What the `error` event carries, and the redaction that keeps secrets out of it.

export type RoomSessionErrorKind =
  /** One request was given up (400/other 4xx, retries exhausted, discarded by stop()); later ones still go. */
  | 'dropped'
  /** Reporting has stopped for good (401, 403, 404, 410 such as an expired participation, or the client cannot sign). */
  | 'stopped'
  /** The queue was full: `dropped` oldest waiting reports were discarded to make room. */
  | 'overflow'
  /** A listener passed to on()/subscribe() threw; the session carried on. */
  | 'listener';

/** The requests a session makes to the room (docs/protocol.md): status reports, refreshes and the leave. */
export type RoomRequest = 'status' | 'refresh' | 'leave';

export interface RoomSessionError {
  type: 'error';
  kind: RoomSessionErrorKind;
  /** Human-readable why. Never holds a token, key or Authorization value. */
  message: string;
  /** Which request: a status report, a refresh or the leave. */
  request?: RoomRequest;
  /** The body that was not delivered (status reports carry no secret). */
  body?: object;
  status?: number;
  errno?: number;
  attempts?: number;
  /** How many requests this error accounts for (overflow, stop). */
  dropped?: number;
}

/** Replace every occurrence of each secret by [redacted]; secrets shorter than 4 characters are too common to match. */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const list = secrets.filter((s) => typeof s === 'string' && s.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => list.reduce((t, s) => t.split(s).join('[redacted]'), text);
}
