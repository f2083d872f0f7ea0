// deploy/systemd/loop-room-state.service: systemd-analyze verify is clean (where the tool exists), its settings
// are serve's own variables, and systemd's stop timeout leaves the drain its whole grace period.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withEnvironment } from '../../src/cli/config';
import { SERVE_FLAGS, serve } from '../../src/cli/serve';
import { ROOT } from '../server/process';
import { findTool, itWith } from '../support/tools';

const UNIT = join(ROOT, 'deploy', 'systemd', 'loop-room-state.service');
// Optional even in CI: containers often have no systemd.
const analyze = findTool('systemd-analyze', [], false);

itWith(analyze)('systemd-analyze verify finds nothing to say', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loop-room-unit-'));
  try {
    copyFileSync(UNIT, join(dir, 'loop-room-state.service'));
    const r = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(analyze!, ['verify', '--man=no', join(dir, 'loop-room-state.service')], (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr })),
    );
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('sets only variables serve reads, and stops no sooner than the grace period allows', () => {
  const unit = readFileSync(UNIT, 'utf8');
  const variables = [...unit.matchAll(/^Environment=LOOP_ROOM_STATE_(\w+)=(.*)$/gm)].map((m) => [m[1], m[2]] as const);
  expect(variables.length).toBeGreaterThanOrEqual(4);
  for (const [name] of variables) expect(serve.usage).toContain(`--${name.toLowerCase().replace(/_/g, '-')}`);
  const grace = Number(variables.find(([n]) => n === 'SHUTDOWN_GRACE')![1]);
  const stopTimeout = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)![1]);
  expect(stopTimeout).toBeGreaterThan(grace);
  expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
  expect(unit).not.toMatch(/^ExecReload=/m);
});

it('takes a PostgreSQL store from its environment file, as its comment says (that file wins over Environment=)', () => {
  const unit = readFileSync(UNIT, 'utf8');
  expect(unit).toMatch(/PostgreSQL LOOP_ROOM_STATE_STORE in \/etc\/loop-room-state\/env/);
  const unitEnv = Object.fromEntries([...unit.matchAll(/^Environment=(\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  // systemd: a variable set by EnvironmentFile= overrides the same one from Environment=.
  const env = { ...unitEnv, LOOP_ROOM_STATE_STORE: 'postgres://loop@db.internal/rooms' };
  const { flags } = withEnvironment({ flags: {}, positional: [] }, SERVE_FLAGS, env);
  expect(flags.store).toBe('postgres://loop@db.internal/rooms');
  expect(flags.db).toBeUndefined();
  // Without the file: the unit's own SQLite file.
  expect(withEnvironment({ flags: {}, positional: [] }, SERVE_FLAGS, unitEnv).flags.store).toBe('sqlite:/var/lib/loop-room-state/rooms.db');
});
