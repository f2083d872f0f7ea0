// Wire cases (protocol 1.3 to 1.6), each with Basic and with Hawk: three reports (waiting, waiting,
// sending), the kit's server answering the second one's first attempt with a fault, then a leave.
import type { AuthScheme, ConformCase, Fault } from '../types';
import { toConformCase } from './model';

/** Reports 1..3: waiting 1/0/0, waiting 1/1/0, sending 2/1/0. */
export const WIRE_EVENTS = ['Session.connectionCreated', 'Publisher.streamCreated', 'Session.connectionCreated'] as const;

/** The report that gets the fault: the second, so one went through before and one waits behind it. */
export const FAULTED_REPORT = 2;

/** Retry-After on 503 and 429, in seconds. */
export const RETRY_AFTER_S = 1;

interface WireKind {
  name: string;
  fault?: Fault['answer'];
  description: string;
}

const KINDS: readonly WireKind[] = [
  { name: 'auth', description: 'every request carries valid authorization (Basic exact; Hawk verified, a fresh nonce each time, payload hash)' },
  { name: '503-retry-after', fault: 503, description: `503 with Retry-After: ${RETRY_AFTER_S} on report 2: it is sent again, not earlier than ${RETRY_AFTER_S} s later, and report 3 only after it` },
  { name: '429-retry-after', fault: 429, description: `429 with Retry-After: ${RETRY_AFTER_S} on report 2: it is sent again, not earlier than ${RETRY_AFTER_S} s later, and report 3 only after it` },
  { name: 'dropped-connection', fault: 'drop', description: 'the connection drops on report 2: it is sent again, and report 3 only after it' },
  { name: '400-dropped', fault: 400, description: '400 on report 2: that report is dropped (not sent again) and report 3 is still sent' },
  { name: '401-stop', fault: 401, description: '401 on report 2: nothing more is sent for the session (no report 3, no leave)' },
  { name: '404-stop', fault: 404, description: '404 on report 2: nothing more is sent for the session (no report 3, no leave)' },
  { name: '410-stop', fault: 410, description: '410 on report 2: nothing more is sent for the session (no report 3, no leave)' },
  { name: 'leave-last', fault: 'slow', description: 'leave while reports are still queued (each answered after 150 ms): every report first, then {"action":"leave"}, then nothing' },
];

export const WIRE_SCHEMES: readonly AuthScheme[] = ['basic', 'hawk'];

export function wireCases(): ConformCase[] {
  return WIRE_SCHEMES.flatMap((auth) =>
    KINDS.map((k) => ({
      ...toConformCase(`wire:${auth}:${k.name}`, `${auth === 'basic' ? 'Basic' : 'Hawk'}: ${k.description}`, WIRE_EVENTS, auth, undefined, 'wire'),
      ...(k.fault !== undefined ? { fault: { report: FAULTED_REPORT, answer: k.fault } } : {}),
    })),
  );
}

/** Faults after which the report is sent again. */
export const isRetried = (a: Fault['answer'] | undefined): boolean => a === 503 || a === 429 || a === 'drop';
/** Faults after which nothing more goes out for the session. */
export const isFinal = (a: Fault['answer'] | undefined): boolean => a === 401 || a === 404 || a === 410;
