/**
 * External tools some suites run (promtool, nginx, systemd-analyze). `npm test` installs promtool and nginx
 * (scripts/ensure-*.sh). Outside CI a suite whose tool is missing is skipped with a note; in CI (CI set) a
 * missing tool fails, as the PostgreSQL suites do, so that a test never silently stops running there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The tool's path, or undefined when it is missing outside CI (a missing tool in CI throws). */
export function findTool(name: string, candidates: readonly string[] = [], required = Boolean(process.env.CI)): string | undefined {
  for (const c of candidates) if (existsSync(c)) return c;
  try {
    const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (found) return found;
  } catch {
    /* not on PATH */
  }
  if (required) throw new Error(`CI is set but '${name}' was not found (npm test installs it: scripts/ensure-*.sh)`);
  // eslint-disable-next-line no-console
  console.warn(`'${name}' not found: its tests are skipped (npm test installs it)`);
  return undefined;
}

/** `it` when the tool exists, `it.skip` when not (outside CI). */
export function itWith(tool: string | undefined): jest.It {
  return tool ? it : it.skip;
}
