/**
 * A throw-away PostgreSQL cluster for tests: initdb in a temporary folder, listening only on 127.0.0.1 at
 * a port chosen at run time, trust auth on loopback, no Unix socket. Nothing of the machine's own
 * PostgreSQL setup is used or touched (only its binaries). The machine runs tests as root and PostgreSQL
 * refuses root, so as root every binary runs as the `postgres` user (runuser, else su).
 *
 *   const pg = usePgCluster();          // in a test file: beforeAll starts it, afterAll removes it
 *   const url = await pg().createDatabase();   // postgres://postgres@127.0.0.1:PORT/t_N, empty
 *   await pg().stop('immediate'); await pg().start();   // "PostgreSQL stopped mid-load"
 *
 * `startPgCluster()` is the same without jest. Every cluster is also stopped and removed when the
 * process exits, so a failed beforeAll or an aborted run leaves no server or folder behind.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, appendFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgCluster {
  /** URL of the cluster's `postgres` database (superuser `postgres`, no password). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** A new empty database; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server: 'fast' (clean) or 'immediate' (like a crash; recovers on start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  readonly running: boolean;
  /** Stops it and removes the folder. */
  destroy(): Promise<void>;
}

export interface PgClusterOptions {
  /** fsync of data and WAL (default true: the real thing). Off only where a test needs speed, not durability. */
  fsync?: boolean;
  /** Extra postgresql.conf lines. */
  settings?: Record<string, string | number>;
}

/** The folder holding initdb/pg_ctl: $PG_BINDIR, pg_config --bindir, the newest /usr/lib/postgresql/N/bin, or PATH. */
export function pgBinDir(): string {
  const candidates: string[] = [];
  if (process.env.PG_BINDIR) candidates.push(process.env.PG_BINDIR);
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    /* no pg_config: try the Debian layout */
  }
  try {
    const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    /* not Debian */
  }
  for (const p of (process.env.PATH ?? '').split(':')) if (p) candidates.push(p);
  const found = candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
  if (!found) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found: run `bash scripts/ensure-postgres.sh` (installs Debian\'s postgresql) or set PG_BINDIR.');
  return found;
}

const isRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. */
function runPg(bin: string, args: string[], timeoutMs = 60_000): Promise<string> {
  let file = bin;
  let argv = args;
  if (isRoot) {
    if (existsSync('/usr/sbin/runuser') || existsSync('/sbin/runuser')) {
      file = 'runuser';
      argv = ['-u', 'postgres', '--', bin, ...args];
    } else {
      file = 'su';
      argv = ['postgres', '-s', '/bin/sh', '-c', [bin, ...args].map(shellQuote).join(' ')];
    }
  }
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: timeoutMs, encoding: 'utf8', cwd: tmpdir() }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${bin.split('/').pop()} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function postgresUid(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root but there is no `postgres` user (PostgreSQL refuses to run as root): install Debian\'s postgresql package, which creates it.');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const live = new Set<{ pgCtl: string; dataDir: string; root: string }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) {
      const argv = isRoot ? ['-u', 'postgres', '--', c.pgCtl, 'stop', '-D', c.dataDir, '-m', 'immediate', '-w'] : ['stop', '-D', c.dataDir, '-m', 'immediate', '-w'];
      spawnSync(isRoot ? 'runuser' : c.pgCtl, argv, { stdio: 'ignore', timeout: 10_000 });
      rmSync(c.root, { recursive: true, force: true });
    }
  });
}

let dbCounter = 0;

export async function startPgCluster(options: PgClusterOptions = {}): Promise<PgCluster> {
  const bindir = pgBinDir();
  const initdb = join(bindir, 'initdb');
  const pgCtl = join(bindir, 'pg_ctl');
  const root = mkdtempSync(join(tmpdir(), 'loop-room-pg-'));
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  const entry = { pgCtl, dataDir, root };
  live.add(entry);
  installExitHook();
  let running = false;
  let port = 0;
  try {
    if (isRoot) {
      const { uid, gid } = postgresUid();
      chownSync(root, uid, gid);
    }
    await runPg(initdb, ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    const settings: Record<string, string | number> = {
      listen_addresses: `'127.0.0.1'`,
      unix_socket_directories: `''`,
      fsync: options.fsync === false ? 'off' : 'on',
      full_page_writes: options.fsync === false ? 'off' : 'on',
      max_connections: 100,
      shared_buffers: `'32MB'`,
      logging_collector: 'off',
      ...options.settings,
    };
    const start = async (): Promise<void> => {
      await runPg(pgCtl, ['start', '-w', '-t', '60', '-D', dataDir, '-l', logFile]);
      running = true;
    };
    // The port is chosen now and written down; another process taking it in between makes start fail: retry.
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      appendFileSync(join(dataDir, 'postgresql.conf'), `\n# loop-room-state test cluster\n${Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join('\n')}\nport = ${port}\n`);
      try {
        await start();
        break;
      } catch (err) {
        if (attempt >= 2) throw new Error(`${(err as Error).message}\n${readLog(logFile)}`);
      }
    }
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const cluster: PgCluster = {
      url,
      port,
      dataDir,
      get running() {
        return running;
      },
      async createDatabase(name?: string) {
        const db = name ?? `t_${process.pid}_${++dbCounter}`;
        if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new Error(`database name ${db}: lower-case letters, digits and _ only`);
        const { Client } = await import('pg');
        const client = new Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${db}`);
        } finally {
          await client.end();
        }
        return `postgres://postgres@127.0.0.1:${port}/${db}`;
      },
      async stop(mode = 'fast') {
        await runPg(pgCtl, ['stop', '-w', '-t', '60', '-D', dataDir, '-m', mode]);
        running = false;
      },
      start,
      async destroy() {
        try {
          if (running || existsSync(join(dataDir, 'postmaster.pid'))) await runPg(pgCtl, ['stop', '-w', '-t', '30', '-D', dataDir, '-m', 'immediate']).catch(() => {});
        } finally {
          running = false;
          rmSync(root, { recursive: true, force: true });
          live.delete(entry);
        }
      },
    };
    return cluster;
  } catch (err) {
    if (existsSync(join(dataDir, 'postmaster.pid'))) await runPg(pgCtl, ['stop', '-w', '-D', dataDir, '-m', 'immediate']).catch(() => {});
    rmSync(root, { recursive: true, force: true });
    live.delete(entry);
    throw err;
  }
}

function readLog(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

/** Jest: one cluster for the test file, started in beforeAll and removed in afterAll (also when tests fail). */
export function usePgCluster(options: PgClusterOptions = {}): () => PgCluster {
  let cluster: PgCluster | undefined;
  beforeAll(async () => {
    cluster = await startPgCluster(options);
  }, 120_000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 60_000);
  return () => {
    if (!cluster) throw new Error('the PostgreSQL cluster is not started (usePgCluster() must be called at the top of the test file)');
    return cluster;
  };
}

/** Whether this machine can make a throw-away cluster (PostgreSQL's server binaries are installed). */
export function pgAvailable(): boolean {
  try {
    pgBinDir();
    return true;
  } catch {
    return false;
  }
}

// One cluster per test file for the store factory below, made on first use and removed after the file's
// tests (jest's afterAll, registered when this module loads inside a test file; else at process exit).
let shared: Promise<PgCluster> | undefined;
if (typeof afterAll === 'function') {
  afterAll(async () => {
    const c = shared;
    shared = undefined;
    if (c) await (await c.catch(() => undefined))?.destroy();
  }, 60_000);
}

/** The cluster shared by this test file's fresh PostgreSQL stores. */
export function sharedPgCluster(): Promise<PgCluster> {
  shared ??= startPgCluster();
  return shared;
}

/** A fresh, empty, opened PostgreSQL store in its own database of the file's cluster (the server suites' factory). */
export async function freshPostgres(): Promise<{ store: import('../../src/server/store/postgres/store').PostgresStore; url: string; cleanup(): Promise<void> }> {
  const cluster = await sharedPgCluster();
  const url = await cluster.createDatabase();
  const { createPostgresStore } = await import('../../src/server/store/postgres/store');
  const store = createPostgresStore(url);
  await store.open();
  return { store, url, cleanup: () => store.close() };
}
