// The verdict on one case from what arrived: the expected requests in order, body for body (the six
// fields, nothing else), each authorized; retries not before Retry-After; nothing after the leave; and,
// where the adapter observes itself, its state and counters after each event equal the model's.
import { statusReport } from '../report';
import { jsonObject } from '../server/validate';
import type { RoomEventType, RoomState } from '../../machines/domain';
import { RETRY_AFTER_S, isFinal, isRetried } from './cases/wire';
import type { AdapterInfo, ArrivedRequest, CaseResult, ConformCase, Divergence, ObservedStep } from './types';

/** Timers may fire a little early by the server's clock (rounding); a retry this much early still counts as on time. */
export const RETRY_TOLERANCE_MS = 10;

const LEAVE = '{"action":"leave"}';

export interface ExpectedRequest {
  step: number;
  body: string;
  note?: string;
}

/** The requests the case should produce, in order (a retried report appears twice). */
export function expectedRequests(c: ConformCase): ExpectedRequest[] {
  const reports: ExpectedRequest[] = [];
  c.steps.forEach((s, i) => {
    if (s.accepted) {
      const { connections, sendStreams, recvStreams } = s;
      reports.push({ step: i + 1, body: JSON.stringify(statusReport(s.event as RoomEventType, s.state as RoomState, { connections, sendStreams, recvStreams })) });
    }
  });
  const leave = { step: c.steps.length + 1, body: LEAVE };
  const f = c.fault;
  if (!f || f.answer === 'slow') return [...reports, leave];
  const k = f.report - 1;
  const faulted = { ...reports[k], note: f.answer === 'drop' ? 'connection dropped' : `answered ${f.answer}` };
  if (isRetried(f.answer)) return [...reports.slice(0, k), faulted, { ...reports[k], note: f.answer === 'drop' ? 'sent again' : `sent again, not before ${RETRY_AFTER_S} s` }, ...reports.slice(k + 1), leave];
  if (isFinal(f.answer)) return [...reports.slice(0, k), faulted];
  return [...reports.slice(0, k), faulted, ...reports.slice(k + 1), leave];
}

export interface JudgeInput {
  c: ConformCase;
  adapter: AdapterInfo;
  observed: ObservedStep[];
  requests: ArrivedRequest[];
  /** Where the case's requests belong: the path of {serverUrl}/rooms/{roomToken}. */
  roomPath: string;
  /** Adapter failures (ok:false, no answer, exited) by step. */
  adapterProblems: Divergence[];
}

/** The method every request uses (protocol.md); the kit's server answers anything else 405. */
const METHOD = 'POST';

export function judge(input: JudgeInput): Pick<CaseResult, 'status' | 'divergence' | 'problems' | 'expectedRequests'> {
  const { c, adapter, observed, requests } = input;
  const expected = expectedRequests(c);
  const eventOf = (step: number) => (step === 0 ? 'start' : step > c.steps.length ? 'leave' : c.steps[step - 1].event);
  const at = (step: number, expectedText: string, received: string): Divergence => ({ step, event: eventOf(step), expected: expectedText, received });
  // Sorted by step, then by `order`: a request's own problem (order: its index) comes before the
  // sequence divergence it causes (a request rejected 401 or 404 is never followed by the next one).
  const problems: Array<{ p: Divergence; step: number; order: number }> = input.adapterProblems.map((p) => ({ p, step: p.step, order: -1 }));
  const add = (p: Divergence, order: number, step = p.step) => problems.push({ p, step, order });

  // The requests, in order (refreshes are allowed at any time and not part of the sequence).
  const received = requests.filter((r) => actionOf(r.body) !== 'refresh');
  let mismatch: { order: number; step: number } | undefined;
  for (let k = 0; k < Math.max(expected.length, received.length); k++) {
    const e = expected[k];
    const r = received[k];
    if (e && r && sameBody(e.body, r.body)) continue;
    const step = e && r ? Math.min(e.step, r.step) : (e?.step ?? r!.step);
    const expectedText = e ? `request ${k + 1}: ${e.body}${e.note ? ` (${e.note})` : ''}` : `nothing more after request ${k}`;
    const receivedText = r ? `request ${k + 1}: ${r.body}` : `nothing (request ${k + 1} never came)`;
    mismatch = { order: r ? requests.indexOf(r) + 0.5 : requests.length, step };
    add(at(step, expectedText, receivedText), mismatch.order);
    break; // after the first mismatch the rest of the sequence is shifted: one divergence says it all
  }

  const roomPath = (path: string) => path.split(input.roomPath.split('/').pop()!).join('{roomToken}');
  requests.forEach((r, k) => {
    // A request at or before the divergence is sorted no later than it: it may be its cause.
    const step = mismatch && k < mismatch.order ? Math.min(r.step, mismatch.step) : r.step;
    const own = (expectedText: string, receivedText: string) => add(at(r.step, `request ${k + 1} ${expectedText}`, `request ${k + 1}${receivedText}`), k, step);
    if (r.path !== input.roomPath) own(`to ${METHOD} ${roomPath(input.roomPath)}`, ` went to ${roomPath(r.path)} (answered ${r.answer})`);
    else if (r.method !== METHOD) own(`sent with ${METHOD}`, ` sent with ${r.method} (answered ${r.answer})`);
    if (r.authProblem) own(`with valid ${c.auth === 'basic' ? 'Basic' : 'Hawk'} authorization`, `: ${r.authProblem}`);
    try {
      jsonObject(headerOf(r, 'content-type'), r.body);
    } catch (err) {
      own('with a JSON body and Content-Type application/json', `: ${(err as Error).message}`);
    }
  });

  // A retry after Retry-After: not earlier than the seconds it names, counted from the answer.
  const f = c.fault;
  if (f && (f.answer === 503 || f.answer === 429)) {
    const k = f.report - 1;
    const first = received[k];
    const again = received[k + 1];
    if (first && again && sameBody(first.body, again.body) && again.at < first.answeredAt + RETRY_AFTER_S * 1000 - RETRY_TOLERANCE_MS) {
      add(at(again.step, `report ${f.report} sent again not earlier than ${RETRY_AFTER_S * 1000} ms after the ${f.answer} (Retry-After: ${RETRY_AFTER_S})`, `sent again ${again.at - first.answeredAt} ms after it`), requests.length);
    }
  }

  // What the adapter says about itself, after each event (after the wire's problems of the same step: a
  // wrong request says more than a wrong self-report).
  c.steps.forEach((s, i) => {
    const o = observed[i];
    if (!o) return;
    const want: string[] = [];
    const got: string[] = [];
    const compare = (name: keyof ObservedStep, value: string | number) => {
      if (o[name] === value) return;
      want.push(`${name} ${value}`);
      got.push(shown(name, o[name], typeof value));
    };
    if (adapter.observes.includes('state')) compare('state', s.state);
    if (adapter.observes.includes('counters')) for (const k of ['connections', 'sendStreams', 'recvStreams'] as const) compare(k, s[k]);
    if (want.length > 0) add(at(i + 1, `the adapter to answer ${want.join(', ')}`, `${got.join(', ')}`), requests.length + 1);
  });

  const ordered = problems
    .map((x, i) => ({ ...x, i }))
    .sort((a, b) => a.step - b.step || a.order - b.order || a.i - b.i)
    .map((x) => x.p);
  return {
    status: ordered.length === 0 ? 'passed' : 'failed',
    ...(ordered.length > 0 ? { divergence: ordered[0] } : {}),
    problems: ordered,
    expectedRequests: expected,
  };
}

/** A self-reported field as received, saying so when it is missing or of the wrong JSON type. */
function shown(name: string, v: unknown, type: string): string {
  if (v === undefined) return `no ${name}`;
  if (typeof v === type) return `${name} ${String(v)}`;
  const kind = v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
  return `${name} ${JSON.stringify(v)} (${kind}, not a ${type})`;
}

function actionOf(body: string): unknown {
  try {
    return (JSON.parse(body) as { action?: unknown }).action;
  } catch {
    return undefined;
  }
}

/** Same JSON object: the same fields (no more, no fewer) with the same values; key order is free. */
function sameBody(expected: string, received: string): boolean {
  let r: unknown;
  try {
    r = JSON.parse(received);
  } catch {
    return false;
  }
  const e = JSON.parse(expected) as Record<string, unknown>;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return false;
  const keys = Object.keys(r);
  return keys.length === Object.keys(e).length && keys.every((k) => Object.is((r as Record<string, unknown>)[k], e[k]));
}

function headerOf(r: ArrivedRequest, name: string): string | undefined {
  const k = Object.keys(r.headers).find((h) => h.toLowerCase() === name);
  return k === undefined ? undefined : r.headers[k];
}
