// The driver protocol, version 1 (docs/conformance.md): one JSON object per line, the kit writes to the
// adapter's stdin and reads its stdout; every kit message has an id, answered by exactly one line with
// the same id and ok. A line that breaks the protocol ends the run (exit 2) with what the adapter sent.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { AdapterInfo, AuthScheme } from './types';

export const DRIVER_PROTOCOL = 1;

/** The hello waits at least this long, whatever --timeout-ms says: the adapter's interpreter is starting. */
export const HELLO_MIN_TIMEOUT_MS = 10_000;

/** The run cannot go on: the adapter did not start, broke the protocol, or exited. */
export class DriverError extends Error {}

/** No answer within --timeout-ms: the case fails and the adapter is started afresh. */
export class AdapterTimeout extends Error {}

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

export function spawnAdapter(command: string): AdapterLink {
  // Its own process group: the shell and whatever it starts are killed together if they outstay the grace.
  const child: ChildProcess = spawn(command, { shell: true, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
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
      if (gone || child.pid === undefined) return;
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, EXIT_GRACE_MS);
      timer.unref();
      child.once('exit', () => clearTimeout(timer));
    },
    exited,
  };
}

const short = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}…` : s);

export class Adapter {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void; sent: string }>();
  private broken: DriverError | undefined;
  private stderrText = '';
  private closing = false;

  constructor(
    private readonly link: AdapterLink,
    private readonly timeoutMs: number,
  ) {
    createInterface({ input: link.stdout, crlfDelay: Infinity }).on('line', (line) => this.onLine(line));
    link.stderr?.on('data', (d: Buffer) => {
      // Kept per case for the report; bounded so a chatty adapter cannot fill memory.
      this.stderrText = (this.stderrText + d.toString('utf8')).slice(-64 * 1024);
    });
    void link.exited.then((how) => {
      if (this.closing) return;
      this.fail(new DriverError(`the adapter ${how}${this.stderrText ? `; its stderr ended with: ${short(this.stderrText.trim().split('\n').slice(-5).join(' | '))}` : ''}`));
    });
  }

  /** The stderr written since the last call. */
  takeStderr(): string {
    const s = this.stderrText;
    this.stderrText = '';
    return s;
  }

  async hello(): Promise<AdapterInfo> {
    const a = await this.request({ type: 'hello', protocol: DRIVER_PROTOCOL }, Math.max(this.timeoutMs, HELLO_MIN_TIMEOUT_MS));
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

  /** Send one message and wait for its answer. Rejects with DriverError or AdapterTimeout. */
  request(message: Record<string, unknown>, timeoutMs = this.timeoutMs): Promise<Answer> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    const line = JSON.stringify({ id, ...message });
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

  private fail(err: DriverError): void {
    if (this.broken) return;
    this.broken = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
