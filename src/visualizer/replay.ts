// Replay files: a JSON array of status-report bodies, or a test-vector file from `generate-tests`.
// Both become tracks (event types plus what the file says each step did) for the page to step through.
import type { Observed } from './scenario';

export interface ReplayTrack {
  id: string;
  description: string;
  events: string[];
  observed: Observed[];
}

export class ReplayError extends Error {}

const COUNTER_FIELDS = ['connections', 'sendStreams', 'recvStreams'] as const;
const MAX_STEPS = 100_000;

/** Parse a replay file's text. Throws ReplayError with the position and field of the first problem. */
export function parseReplay(text: string): ReplayTrack[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ReplayError(`not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (isObject(data) && Array.isArray(data.vectors)) data = data.vectors;
  if (isObject(data) && Array.isArray(data.steps)) data = [data];
  if (!Array.isArray(data)) throw new ReplayError('expected a JSON array of status reports or of test vectors');
  if (data.length === 0) throw new ReplayError('the file holds an empty array: nothing to replay');
  const first = data[0];
  if (isObject(first) && 'steps' in first) return data.map((v, i) => parseVector(v, i));
  if (isObject(first) && 'action' in first) return [parseReports(data)];
  throw new ReplayError('item 1 is neither a status report (with "action") nor a test vector (with "steps")');
}

function parseReports(items: unknown[]): ReplayTrack {
  if (items.length > MAX_STEPS) throw new ReplayError(`too many reports (${items.length}; at most ${MAX_STEPS})`);
  const events: string[] = [];
  const observed: Observed[] = [];
  items.forEach((item, i) => {
    // Counted from 1, as the timeline's chips are.
    const where = `report ${i + 1}`;
    if (!isObject(item)) throw new ReplayError(`${where} is not an object`);
    if (item.action !== 'status') throw new ReplayError(`${where}: "action" must be "status"`);
    events.push(eventField(item.event, where));
    // A report is only ever sent for an accepted event (spec 4.6).
    observed.push({ accepted: true, state: stringField(item.state, `${where}: "state"`), ...countersOf(item, where) });
  });
  return { id: 'reports', description: `${items.length} status reports`, events, observed };
}

function parseVector(v: unknown, i: number): ReplayTrack {
  const where = `vector ${i + 1}`;
  if (!isObject(v)) throw new ReplayError(`${where} is not an object`);
  if (!Array.isArray(v.steps)) throw new ReplayError(`${where}: "steps" must be an array`);
  if (v.steps.length > MAX_STEPS) throw new ReplayError(`${where}: too many steps (${v.steps.length}; at most ${MAX_STEPS})`);
  const id = v.id === undefined ? `vector-${i + 1}` : String(v.id);
  const events: string[] = [];
  const observed: Observed[] = [];
  v.steps.forEach((s: unknown, j: number) => {
    const at = `${where} (${id}) step ${j + 1}`;
    if (!isObject(s)) throw new ReplayError(`${at} is not an object`);
    events.push(eventField(s.event, at));
    const seen: Observed = { ...countersOf(s, at, true) };
    if (s.accepted !== undefined) {
      if (typeof s.accepted !== 'boolean') throw new ReplayError(`${at}: "accepted" must be true or false`);
      seen.accepted = s.accepted;
    }
    if (s.state !== undefined) seen.state = stringField(s.state, `${at}: "state"`);
    observed.push(seen);
  });
  return { id, description: typeof v.description === 'string' ? v.description : '', events, observed };
}

function eventField(e: unknown, where: string): string {
  if (typeof e === 'string') return e;
  if (isObject(e) && typeof e.type === 'string') return e.type;
  throw new ReplayError(`${where}: "event" must be an event type string`);
}

function stringField(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new ReplayError(`${where} must be a string`);
  return v;
}

function countersOf(item: Record<string, unknown>, where: string, optional = false): Partial<Record<(typeof COUNTER_FIELDS)[number], number>> {
  const out: Partial<Record<(typeof COUNTER_FIELDS)[number], number>> = {};
  for (const f of COUNTER_FIELDS) {
    const v = item[f];
    if (v === undefined && optional) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ReplayError(`${where}: "${f}" must be a non-negative integer`);
    out[f] = v;
  }
  return out;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
