// One worker thread of the threaded SQLite store, seen from the thread that answers requests: calls go by
// message and are answered by id. A thread that stops (crash, terminate) rejects what it was asked and every
// later call with StoreUnavailableError: never a hang, never a crash of the process.
import { Worker } from 'node:worker_threads';
import { StoreUnavailableError } from '../errors';
import { fromWire, type Call, type Post, type ThreadSetup } from './protocol';
import type { Ops } from './worker';
import { workerScript } from './workerScript';

export interface ThreadHooks {
  log: (line: string) => void;
  commits: (seconds: number[]) => void;
}

interface Waiting {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  timer?: NodeJS.Timeout;
}

export class StoreThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  /** Calls of this turn of the event loop, sent together at its end (one message per turn, not per call). */
  private outbox: Call[] = [];
  private nextId = 0;
  private stopped?: StoreUnavailableError;

  /** `name` says which thread in messages ("writer", "reader"...). */
  constructor(private readonly name: string, setup: ThreadSetup, private readonly hooks: ThreadHooks) {
    const script = workerScript();
    this.worker = new Worker(script.code ?? script.filename, { eval: script.code !== undefined, workerData: setup, name: `loop-room-state sqlite ${name}` });
    // Referenced only while it owes an answer: a store nobody waits on does not keep the process alive.
    this.worker.unref();
    this.worker.on('message', (post: Post) => this.received(post));
    this.worker.on('error', (err) => this.stop(`failed (${err instanceof Error ? err.message : String(err)})`));
    this.worker.on('exit', (code) => this.stop(`exited (code ${code})`));
  }

  /**
   * Asks the worker to run `op`. With `timeoutMs`, the call rejects as unavailable once that long has passed
   * (the worker skips it if it has not started it by then; a read it already runs ends on its own).
   */
  call<K extends keyof Ops>(op: K, args: Parameters<Ops[K]>, timeoutMs?: number): Promise<Awaited<ReturnType<Ops[K]>>> {
    type T = Awaited<ReturnType<Ops[K]>>;
    if (this.stopped) return Promise.reject(this.stopped);
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const w: Waiting = { resolve: resolve as (v: unknown) => void, reject };
      if (timeoutMs !== undefined) {
        w.timer = setTimeout(() => {
          this.settled(id);
          reject(new StoreUnavailableError(`the SQLite store's ${this.name} took longer than read_timeout_ms (${timeoutMs} ms)`));
        }, timeoutMs);
      }
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, w);
      if (this.outbox.length === 0) setImmediate(() => this.send());
      this.outbox.push({ id, op, args, ...(timeoutMs !== undefined ? { deadline: Date.now() + timeoutMs } : {}) });
    });
  }

  /** Whether the thread still answers (it has not stopped). */
  get alive(): boolean {
    return this.stopped === undefined;
  }

  /** Stops the thread (after whatever it was asked to finish first, e.g. the store's close). */
  async end(): Promise<void> {
    this.stop('was ended');
    await this.worker.terminate();
  }

  private send(): void {
    const calls = this.outbox;
    this.outbox = [];
    if (!this.stopped) this.worker.postMessage(calls);
  }

  private received(post: Post): void {
    if ('log' in post) {
      this.hooks.log(post.log);
      return;
    }
    if (post.commits.length > 0) this.hooks.commits(post.commits);
    for (const a of post.answers) {
      const w = this.settled(a.id);
      if (!w) continue; // timed out already
      if (a.ok) w.resolve(a.value);
      else w.reject(fromWire(a.error));
    }
  }

  private settled(id: number): Waiting | undefined {
    const w = this.waiting.get(id);
    if (!w) return undefined;
    clearTimeout(w.timer);
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.worker.unref();
    return w;
  }

  private stop(how: string): void {
    if (this.stopped) return;
    this.stopped = new StoreUnavailableError(`the SQLite store's ${this.name} thread ${how}`);
    if (how !== 'was ended') this.hooks.log(`store: ${this.stopped.message}; the store is unavailable until the server restarts`);
    for (const id of [...this.waiting.keys()]) this.settled(id)?.reject(this.stopped);
  }
}
