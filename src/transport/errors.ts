// What the `error` event carries (a union on `kind`, so a switch narrows it), and the redaction that keeps
// secrets out of it.

/** The requests a session makes to the room (docs/protocol.md): status reports, refreshes and the leave. */
export type RoomRequest = 'status' | 'refresh' | 'leave';

interface ErrorBase {
  type: 'error';
  /** Human-readable why. Never holds a token, key or Authorization value. */
  message: string;
}

/**
 * One request was given up; later ones still go. `status` is the refusing answer's (400 and other 4xx),
 * absent when no answer came (network error or timeout on every attempt).
 */
export interface RequestDroppedError extends ErrorBase {
  kind: 'dropped';
  request: RoomRequest;
  /** The body that was not delivered (status reports carry no secret). */
  body: object;
  attempts: number;
  status?: number;
  errno?: number;
}

/** Why reporting stopped: see {@link ReportingStoppedError}. */
export type StopReason =
  /** The server refuses everything from now on: 401, 403, 404 (errno: unknown room), 410 (participation expired). */
  | 'refused'
  /** The room path is not the Loop API (405, or an answer that is not the API's JSON): serverUrl lacks its /v1 prefix or names another server. */
  | 'not-the-api'
  /**
   * Joining the room failed (a session given `join`); nothing was reported. Also a join cancelled by the
   * caller's `signal`: the message is then 'could not join the room: cancelled', with no `status`.
   */
  | 'join-failed'
  /**
   * The client cannot sign, the machine failed, the session was stopped, or a request (leave()) was made after
   * reporting stopped: 'reporting has stopped; request not sent' (the stop's own reason was told by `error`).
   */
  | 'failed';

/** Reporting has stopped for good; `dropped` requests were discarded with it. */
export interface ReportingStoppedError extends ErrorBase {
  kind: 'stopped';
  reason: StopReason;
  /** The answer's status when an answer caused the stop (always there for `refused` and `not-the-api`). */
  status?: number;
  errno?: number;
  /** Requests discarded with the stop. */
  dropped: number;
  /** On the result of one discarded request (leave(), enqueue): which one. */
  request?: RoomRequest;
  body?: object;
}

/** stop(), or the page going away: `dropped` waiting requests were discarded (the session ended; nothing failed). */
export interface RequestsDiscardedError extends ErrorBase {
  kind: 'discarded';
  dropped: number;
  request?: RoomRequest;
  body?: object;
}

/** The queue was full: `dropped` oldest waiting status reports were discarded to make room. */
export interface QueueOverflowError extends ErrorBase {
  kind: 'overflow';
  dropped: number;
  request?: RoomRequest;
  body?: object;
}

/** A listener passed to on()/subscribe() threw; the session carried on. */
export interface ListenerError extends ErrorBase {
  kind: 'listener';
}

/** The `error` event's payload: switch on `kind` to reach the fields each kind always has. */
export type RoomSessionError = RequestDroppedError | ReportingStoppedError | RequestsDiscardedError | QueueOverflowError | ListenerError;

/** The kinds of {@link RoomSessionError}. */
export type RoomSessionErrorKind = RoomSessionError['kind'];

/**
 * Replace every occurrence of each secret by [redacted]; secrets shorter than 4 characters are too common to
 * match. The list is read at each call: a secret learnt later (a join's sessionToken) is redacted too.
 */
export function redactor(secrets: readonly string[]): (text: string) => string {
  return (text) =>
    secrets
      .filter((s) => typeof s === 'string' && s.length >= 4)
      .sort((a, b) => b.length - a.length)
      .reduce((t, s) => t.split(s).join('[redacted]'), text);
}
