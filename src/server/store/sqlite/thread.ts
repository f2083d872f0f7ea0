// One worker thread of the threaded SQLite store, seen from the thread that answers requests: calls go by
// message and are answered by id. A thread that stops (crash, terminate) rejects what it was asked and every
// later call with StoreUnavailableError: never a hang, never a crash of the process.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { StoreUnavailableError } from '../errors';
import { fromWire, wireError, type Asked, type Call, type Post, type ThreadSetup, type Told } from './protocol';
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
  /** Units whose decision the worker may ask for while it holds the write lock (see `asking`), by token. */
  private readonly deciders = new Map<number, (ctx: unknown) => Told['decision']>();
  private nextToken = 0;
  private readonly asked: MessagePort;
  private readonly flag: Int32Array;

  /** `name` says which thread in messages ("writer", "reader"...). */
  constructor(private readonly name: string, setup: Omit<ThreadSetup, 'asking'>, private readonly hooks: ThreadHooks) {
    const script = workerScript();
    const { port1, port2 } = new MessageChannel();
    const flag = new SharedArrayBuffer(4);
    this.asked = port1;
    this.flag = new Int32Array(flag);
    const workerData: ThreadSetup = { ...setup, asking: { port: port2, flag } };
    this.worker = new Worker(script.code ?? script.filename, {
      eval: script.code !== undefined,
      workerData,
      transferList: [port2],
      name: `loop-room-state sqlite ${name}`,
    });
    this.asked.on('message', (m: Asked) => this.decide(m));
    this.asked.unref();
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

  /**
   * Runs `run` with a token under which the worker may ask `decide` for a decision on the rows it read inside its
   * transaction (a unit's last round: nothing can change those rows before the decision is applied).
   */
  async asking<R>(decide: (ctx: unknown) => Told['decision'], run: (token: number) => Promise<R>): Promise<R> {
    const token = ++this.nextToken;
    this.deciders.set(token, decide);
    try {
      return await run(token);
    } finally {
      this.deciders.delete(token);
    }
  }

  /** Whether the thread still answers (it has not stopped). */
  get alive(): boolean {
    return this.stopped === undefined;
  }

  /** Stops the thread (after whatever it was asked to finish first, e.g. the store's close). */
  async end(): Promise<void> {
    this.stop('was ended');
    await this.worker.terminate();
    this.asked.close();
  }

  /** Answers the worker waiting on `flag`: the reply goes on the port first, then the flag wakes it. */
  private decide(m: Asked): void {
    let told: Told;
    try {
      const decide = this.deciders.get(m.token);
      if (!decide) throw new StoreUnavailableError('the unit that was asked for a decision is gone');
      told = { seq: m.seq, decision: decide(m.ctx) };
    } catch (err) {
      told = { seq: m.seq, error: wireError(err) };
    }
    this.asked.postMessage(told);
    Atomics.store(this.flag, 0, m.seq);
    Atomics.notify(this.flag, 0);
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
