// The driver protocol, version 1 (docs/conformance.md): one JSON object per line, the kit writes to the
// adapter's stdin and reads its stdout; every kit message has an id, answered by exactly one line with
// the same id and ok. A line that breaks the protocol ends the run (exit 2) with what the adapter sent; an
// adapter that exits fails the case it was in (AdapterExited), like one that does not answer.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { AdapterInfo, AuthScheme, RunResult } from './types';

export const DRIVER_PROTOCOL = 1;

/** The hello waits at least this long, whatever --timeout-ms says: the adapter's interpreter is starting. */
export const HELLO_MIN_TIMEOUT_MS = 10_000;

/** The run cannot go on: the adapter did not start or broke the protocol. */
export class DriverError extends Error {
  /** The cases that ended before the run stopped (the reports are still written for them). */
  partial?: RunResult;
}

/** No answer within --timeout-ms: the case fails and the adapter is started afresh. */
export class AdapterTimeout extends Error {}

/** The adapter exited during the run: like a timeout, the case fails and the adapter is started afresh. */
export class AdapterExited extends Error {}

export type Answer = Record<string, unknown> & { id: number; ok: boolean; error?: string };

/** Where the lines go: a child process, or streams in this process (the package's own adapter). */
export interface AdapterLink {
  stdin: Writable;
  stdout: Readable;
  stderr?: Readable;
  describe: string;
  kill(): void;
  /** Resolves with a description when the adapter is gone. */
  exited: Promise<string>;
}

/** After its stdin closes, an adapter gets this long to end by itself (a browser adapter closes its browser). */
export const EXIT_GRACE_MS = 3000;

/** After an adapter exits, its last lines are read for at most this long before the exit is reported. */
const EXIT_READ_MS = 200;

/** Adapter process groups not yet killed: an interrupted kit kills them (killAdapterGroups). */
const liveGroups = new Set<number>();

function killGroup(pid: number): void {
  liveGroups.delete(pid);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills every adapter process group this process started and has not killed yet (on SIGINT, SIGTERM). */
export function killAdapterGroups(): void {
  for (const pid of [...liveGroups]) killGroup(pid);
}

export function spawnAdapter(command: string): AdapterLink {
  // Its own process group: the shell and whatever it starts are killed together at the end.
  const child: ChildProcess = spawn(command, { shell: true, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const pid = child.pid;
  if (pid !== undefined) liveGroups.add(pid);
  let gone = false;
  child.once('exit', () => (gone = true));
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(`could not start: ${err.message}`));
    child.once('exit', (code, signal) => resolve(signal ? `was killed by ${signal}` : `exited with code ${String(code)}`));
  });
  // A dead adapter's stdin errors on write (EPIPE): the exit is what gets reported.
  child.stdin!.on('error', () => {});
  return {
    stdin: child.stdin!,
    stdout: child.stdout!,
    stderr: child.stderr!,
    describe: command,
    kill: () => {
      if (pid === undefined || !liveGroups.has(pid)) return;
      // The group goes once the main process has ended or outstayed the grace: helpers it started
      // (a browser, a server) would otherwise survive the run.
      if (gone) return killGroup(pid);
      const timer = setTimeout(() => killGroup(pid), EXIT_GRACE_MS);
      timer.unref();
      child.once('exit', () => (clearTimeout(timer), killGroup(pid)));
    },
    exited,
  };
}

const short = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}…` : s);

export class Adapter {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void; sent: string }>();
  private broken: Error | undefined;
  private stderrText = '';
  private closing = false;

  constructor(
    private readonly link: AdapterLink,
    private readonly timeoutMs: number,
  ) {
    const lines = createInterface({ input: link.stdout, crlfDelay: Infinity }).on('line', (line) => this.onLine(line));
    const stdoutEnded = new Promise((resolve) => lines.once('close', resolve));
    link.stderr?.on('data', (d: Buffer) => {
      // Kept per case for the report; bounded so a chatty adapter cannot fill memory.
      this.stderrText = (this.stderrText + d.toString('utf8')).slice(-64 * 1024);
    });
    void link.exited
      // The answers it wrote before exiting are read first (a helper holding stdout open must not stall this).
      .then(async (how) => (await Promise.race([stdoutEnded, new Promise((r) => setTimeout(r, EXIT_READ_MS))]), how))
      .then((how) => {
        if (this.closing) return;
        this.fail(new AdapterExited(`the adapter ${how}${this.stderrText ? `; its stderr ended with: ${short(this.stderrText.trim().split('\n').slice(-5).join(' | '))}` : ''}`));
      });
  }

  /** The stderr written since the last call. */
  takeStderr(): string {
    const s = this.stderrText;
    this.stderrText = '';
    return s;
  }

  async hello(): Promise<AdapterInfo> {
    let a: Answer;
    try {
      a = await this.request({ type: 'hello', protocol: DRIVER_PROTOCOL }, Math.max(this.timeoutMs, HELLO_MIN_TIMEOUT_MS));
    } catch (err) {
      // No case to fail yet: an adapter that cannot answer hello did not start.
      if (err instanceof AdapterTimeout || err instanceof AdapterExited) throw new DriverError(`the adapter did not answer hello: ${err.message}`);
      throw err;
    }
    const sent = JSON.stringify(a);
    if (!a.ok) throw new DriverError(`the adapter refused hello: ${String(a.error ?? sent)}`);
    if (typeof a.name !== 'string') throw new DriverError(`the hello answer needs "name" (a string); the adapter sent ${short(sent)}`);
    const okList = (v: unknown, allowed: string[]) => Array.isArray(v) && v.every((x) => allowed.includes(x as string));
    if (!okList(a.auth, ['basic', 'hawk']) || (a.auth as unknown[]).length === 0) {
      throw new DriverError(`the hello answer needs "auth": a non-empty list of "basic" and/or "hawk"; the adapter sent ${short(sent)}`);
    }
    if (!okList(a.observes, ['state', 'counters'])) throw new DriverError(`the hello answer needs "observes": a list of "state" and/or "counters" (may be empty); the adapter sent ${short(sent)}`);
    return { name: a.name, auth: a.auth as AuthScheme[], observes: a.observes as AdapterInfo['observes'] };
  }

  /** Send one message and wait for its answer. Rejects with DriverError, AdapterTimeout or AdapterExited. */
  request(message: Record<string, unknown>, timeoutMs = this.timeoutMs): Promise<Answer> {
    const id = this.nextId++;
    const line = JSON.stringify({ id, ...message });
    if (this.broken instanceof AdapterExited) return Promise.reject(new AdapterExited(`${this.broken.message} (before the kit sent ${short(line, 160)})`));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AdapterTimeout(`no answer to ${short(line, 120)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (a) => (clearTimeout(timer), resolve(a)),
        reject: (e) => (clearTimeout(timer), reject(e)),
        sent: line,
      });
      this.link.stdin.write(`${line}\n`);
    });
  }

  /** Ends the adapter's stdin; it is killed if it has not ended within EXIT_GRACE_MS. */
  close(): void {
    this.closing = true;
    // Whoever still waits for an answer stops waiting (a lane of a run that is ending).
    this.fail(new DriverError('the adapter was closed by the kit'));
    try {
      this.link.stdin.end();
    } catch {
      // already gone
    }
    this.link.kill();
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    let a: unknown;
    try {
      a = JSON.parse(line);
    } catch {
      return this.fail(new DriverError(`the adapter wrote a line to stdout that is not JSON (logs go to stderr): ${short(line)}`));
    }
    if (typeof a !== 'object' || a === null || Array.isArray(a)) return this.fail(new DriverError(`the adapter wrote a line that is not a JSON object: ${short(line)}`));
    const o = a as Answer;
    if (!Number.isInteger(o.id)) return this.fail(new DriverError(`the adapter's answer has no integer "id": ${short(line)}`));
    const p = this.pending.get(o.id);
    if (!p) return this.fail(new DriverError(`the adapter answered id ${String(o.id)}, which is not a message waiting for an answer: ${short(line)}`));
    if (typeof o.ok !== 'boolean') return this.fail(new DriverError(`the adapter's answer to ${short(p.sent, 120)} has no "ok" (true or false): ${short(line)}`));
    if (!o.ok && typeof o.error !== 'string') return this.fail(new DriverError(`the adapter answered ok:false without an "error" text: ${short(line)}`));
    this.pending.delete(o.id);
    p.resolve(o);
  }

  private fail(err: DriverError | AdapterExited): void {
    if (this.broken) return;
    // One message at a time: the one waiting says where the adapter was.
    for (const p of this.pending.values()) err.message += ` (the kit was waiting for the answer to ${short(p.sent, 160)})`;
    this.broken = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
