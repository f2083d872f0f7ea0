// The built CLI as a child process: `serve` on a port chosen at run time, `export` of a database.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.cjs');

export function requireBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first (npm test does)`);
}

export interface ServeChild {
  child: ChildProcess;
  serverUrl: string;
  origin: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawn `command args` and wait for the "Room server: URL" line. */
export function spawnServe(command: string, args: string[], env: NodeJS.ProcessEnv = {}, options: { detached?: boolean } = {}): Promise<ServeChild> {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
  let out = '';
  let err = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Room server:" line within 30 s; stdout: ${out} stderr: ${err}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /Room server: (http:\/\/\S+\/v1)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, serverUrl: m[1], origin: m[1].replace(/\/v1$/, ''), stdout: () => out, stderr: () => err, exited });
      }
    });
    child.stderr!.on('data', (d) => (err += d));
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`serve exited early (${JSON.stringify(e)}): ${err}`));
    });
  });
}

export function serveCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeChild> {
  requireBuilt();
  return spawnServe(process.execPath, [CLI, 'serve', ...args], env);
}

export function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  requireBuilt();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * For a test file that runs the CLI: checks it is built, and gives a temporary folder and a list for the
 * `serve` children it spawns; after the file, children still running are killed and the folder removed.
 */
export function useCliRun(prefix: string): { temp: string; children: ServeChild[] } {
  const temp = mkdtempSync(join(tmpdir(), prefix));
  const children: ServeChild[] = [];
  beforeAll(() => requireBuilt());
  afterAll(() => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    rmSync(temp, { recursive: true, force: true });
  });
  return { temp, children };
}
