// The conformance kit's shared shapes: a case, what arrived on the wire for it, and the verdict.
import type { TestStep } from '../testgen/types';

export type AuthScheme = 'basic' | 'hawk';

/** What the kit's server answers to one status report (by its 1-based attempt order), besides 204. */
export type FaultAnswer = 503 | 429 | 400 | 401 | 404 | 410 | 'drop' | 'slow';

export interface Fault {
  /** Which status report's first attempt gets the fault (1-based); `slow` delays every report instead. */
  report: number;
  answer: FaultAnswer;
}

export interface ConformCase {
  id: string;
  kind: 'model' | 'wire' | 'walk';
  description: string;
  /** Coverage items (generate-tests' ids) the case's steps fire, for the per-transition matrix. */
  items: string[];
  /** The item the case is about (model cases from a coverage item). */
  item?: string;
  auth: AuthScheme;
  /** The events and, per event, what the model says (walkRoom). */
  steps: TestStep[];
  fault?: Fault;
}

/** One request as the kit's server received it (also one to a wrong path that names the case's room token). */
export interface ArrivedRequest {
  /** Milliseconds since the case started. */
  at: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Which step it arrived during: 0 before the first event, n after event n, steps+1 after the leave. */
  step: number;
  /** Undefined when the authorization is valid, else why not. */
  authProblem?: string;
  /** The status the kit answered (0: connection dropped). */
  answer: number;
  /** When the answer went out (ms since the case started). */
  answeredAt: number;
}

/** What the adapter answered after one event, where it observes itself: the values as sent (any JSON
 * type; the judge says when one is missing or of the wrong type). */
export interface ObservedStep {
  state?: unknown;
  connections?: unknown;
  sendStreams?: unknown;
  recvStreams?: unknown;
}

export interface Divergence {
  /** 1-based step (the event), steps + 1 for the leave, 0 for the start. */
  step: number;
  /** The event of that step, or 'leave'. */
  event: string;
  expected: string;
  received: string;
}

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  id: string;
  kind: ConformCase['kind'];
  description: string;
  auth: AuthScheme;
  items: string[];
  status: CaseStatus;
  /** Skipped: why. */
  reason?: string;
  /** The first divergence of a failed case; `problems` lists all of them. */
  divergence?: Divergence;
  problems: Divergence[];
  steps: TestStep[];
  observed: ObservedStep[];
  /** The requests the model expects, in order (bodies as JSON text). */
  expectedRequests: Array<{ step: number; body: string; note?: string }>;
  requests: ArrivedRequest[];
  /** The adapter's stderr while the case ran. */
  stderr: string;
  durationMs: number;
  /** A walk shrunk from a longer failing one: how long it was. */
  shrunkFrom?: number;
}

export interface Stray {
  method: string;
  /** The room token, if any, replaced by "…". */
  path: string;
  at: string;
}

export interface AdapterInfo {
  name: string;
  auth: AuthScheme[];
  observes: Array<'state' | 'counters'>;
}

export interface RunResult {
  adapter: AdapterInfo;
  command: string;
  startedAt: string;
  durationMs: number;
  maxCount: number;
  cases: CaseResult[];
  /** Set when the run stopped early (exit 2): why; `cases` then holds the cases that had ended. */
  aborted?: string;
  /** Requests no case could be found for (their path names no open room), answered 404. */
  strays: Stray[];
  summary: { total: number; passed: number; failed: number; skipped: number; events: number };
}
