// Request bodies: JSON objects, their actions and parameters (server spec section 1, room-session.md section 1);
// and the admin views' query parameters.
import { errors } from './errors';
import { textProblem } from '../text';
import type { StatusFields } from './store';

export const ACTIONS = ['join', 'refresh', 'status', 'leave'] as const;
export type Action = (typeof ACTIONS)[number];

const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-?8"?\s*)?$/i;

/** The body as a JSON object, or 400 errno 106. */
export function jsonObject(contentType: string | undefined, body: string): Record<string, unknown> {
  if (contentType === undefined || !JSON_TYPE.test(contentType.trim())) throw errors.badJson('Content-Type must be application/json.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw errors.badJson('Body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw errors.badJson('Body is not a JSON object.');
  return parsed as Record<string, unknown>;
}

export function actionOf(o: Record<string, unknown>): Action {
  if (!('action' in o)) throw errors.missing('action');
  if (!(ACTIONS as readonly unknown[]).includes(o.action)) throw errors.invalid('Invalid action.');
  return o.action as Action;
}

/** Refuses text a log, a terminal or the database would not keep as it was sent (errno 107). */
function checkText(name: string, v: string): void {
  const problem = textProblem(v);
  if (problem) throw errors.invalid(`Invalid ${name}: ${problem}.`);
}

/** A string of 1..max characters without control characters; missing is errno 108, wrong errno 107. */
export function requiredString(o: Record<string, unknown>, name: string, max: number): string {
  if (!(name in o) || o[name] === undefined || o[name] === null) throw errors.missing(name);
  const v = o[name];
  if (typeof v !== 'string' || v.length < 1 || v.length > max) throw errors.invalid(`Invalid ${name}: a string of 1 to ${max} characters.`);
  checkText(name, v);
  return v;
}

export function requiredInteger(o: Record<string, unknown>, name: string, min: number, max: number): number {
  if (!(name in o) || o[name] === undefined || o[name] === null) throw errors.missing(name);
  return integer(o, name, min, max);
}

export function optionalNumber(o: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  if (!(name in o) || o[name] === undefined || o[name] === null) return undefined;
  const v = o[name];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw errors.invalid(`Invalid ${name}: a number from ${min} to ${max}.`);
  return v;
}

function integer(o: Record<string, unknown>, name: string, min: number, max: number): number {
  const v = o[name];
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw errors.invalid(`Invalid ${name}: an integer from ${min} to ${max}.`);
  return v as number;
}

const STATUS_FIELDS = ['event', 'state', 'connections', 'sendStreams', 'recvStreams'] as const;

/** Whether two reports say the same (a retry of one report, not another under the same idempotency key). */
export const sameStatusFields = (a: StatusFields, b: StatusFields): boolean => STATUS_FIELDS.every((f) => a[f] === b[f]);
const COUNTERS = ['connections', 'sendStreams', 'recvStreams'] as const;
export const MAX_NAME_LENGTH = 64;
export const MAX_COUNTER = 10_000;

/** The status report's fields, checked in the reference server's order; every refusal is errno 107. */
export function statusFields(o: Record<string, unknown>): StatusFields {
  for (const f of STATUS_FIELDS) if (!(f in o) || o[f] === undefined) throw errors.invalid(`'${f}' field is missing in body.`);
  for (const f of ['event', 'state'] as const) {
    const v = o[f];
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_NAME_LENGTH) throw errors.invalid(`Invalid ${f}: a string of 1 to ${MAX_NAME_LENGTH} characters.`);
    checkText(f, v);
  }
  for (const f of COUNTERS) {
    const v = o[f];
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > MAX_COUNTER) throw errors.invalid(`Invalid ${f} number.`);
  }
  return {
    event: o.event as string,
    state: o.state as string,
    connections: o.connections as number,
    sendStreams: o.sendStreams as number,
    recvStreams: o.recvStreams as number,
  };
}

/** A query parameter holding an ISO time (epoch ms), undefined when absent, or 400 errno 107. */
export function timeParam(q: URLSearchParams, name: string): number | undefined {
  const all = q.getAll(name);
  if (all.length === 0) return undefined;
  if (all.length > 1) throw errors.invalid(`Invalid ${name}: given ${all.length} times; give it once.`);
  const v = all[0];
  const t = Date.parse(v);
  const [y, m, d] = v.slice(0, 10).split('-').map(Number);
  const day = new Date(Date.UTC(y, m - 1, d));
  // Date.parse takes 2026-02-30 as March 2nd: a date must name a day of its month.
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(t) || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) {
    throw errors.invalid(`Invalid ${name}: an ISO time such as 2026-01-31T12:00:00Z.`);
  }
  return t;
}

/** `since` and `until` (either may be absent); when both are given, `until` must be after `since`. */
export function timeRange(q: URLSearchParams): { since: number | undefined; until: number | undefined } {
  const since = timeParam(q, 'since');
  const until = timeParam(q, 'until');
  if (since !== undefined && until !== undefined && until <= since) throw errors.invalid('Invalid range: until must be after since.');
  return { since, until };
}
