// The README's "Run the room server" flow, run as a user would (node, ESM, the built package) against a
// real server: a README example that stops working fails here.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServer, type TestServer } from './helpers';
import { freshSqlite } from '../support/stores';

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

/** The first ```js block of the README section `heading`. */
function readmeBlock(heading: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(`\n## ${heading}`));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error(`no js block under ${heading}`);
  return match[1];
}

let server: TestServer;
let dir: string;
beforeAll(async () => {
  server = await startServer(freshSqlite);
  dir = mkdtempSync(join(tmpdir(), 'readme-flow-'));
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('the README flow (desktop Hawk + standalone Basic) runs against the server: 8 conformant reports, both sessions left', async () => {
  const code = readmeBlock('Run the room server');
  expect(code).toContain("const serverUrl = 'http://127.0.0.1:5000/v1';");
  const file = join(dir, 'flow.mjs');
  writeFileSync(
    file,
    code
      .replace("'http://127.0.0.1:5000/v1'", JSON.stringify(server.serverUrl))
      .replace("from 'loop-room-state'", `from ${JSON.stringify(join(ROOT, 'dist', 'index.mjs'))}`),
  );
  const { stdout, stderr } = await run(process.execPath, [file], { timeout: 30_000 });
  expect(stderr).toBe('');
  expect(stdout).toMatch(/^room http:\/\/\S+: 8 reports stored/);

  const reports = [];
  for await (const r of server.fresh.store.exportReports({})) reports.push(r);
  expect(reports.map((r) => [r.fields.event, r.fields.state, r.verdict])).toEqual(
    [0, 1].flatMap(() => [
      ['Session.connectionCreated', 'waiting', 'conformant'],
      ['Publisher.streamCreated', 'waiting', 'conformant'],
      ['Session.connectionCreated', 'sending', 'conformant'],
      ['Session.streamCreated', 'sendrecv', 'conformant'],
    ]),
  );
  const stats = await server.fresh.store.stats({});
  expect(stats.sessions).toMatchObject({ started: 2, ended: 2, open: 0 });
});
