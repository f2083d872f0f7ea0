// The conform command end to end: exit codes, the report files (JUnit parsed, the HTML page opened in
// Chromium and its link into the visualizer followed), the Python adapter, skipped Hawk, and shrinking.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { main } from '../../src/cli/main';
import { runConformance } from '../../src/conform/runner';
import { walkRoom } from '../../src/model/step';
import { parseReplay } from '../../src/visualizer/replay';
import { buildInto, launchChromium } from '../support/visualizerPage';
import { EXAMPLE_PY, brokenAdapter, scriptAdapter } from './support';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['conform', ...argv], { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'conform-cli-'));
const FAST = ['--quiet-ms', '80', '--jobs', '4'];

describe('conform: exit 2 when the run cannot be done, saying why', () => {
  it('an adapter that writes a log line to stdout: exit 2 quoting the line', async () => {
    const adapter = scriptAdapter('chatty', "process.stdout.write('Adapter ready, waiting for the kit\\n'); process.stdin.resume();");
    const r = await cli('--adapter', adapter);
    expect(r.code).toBe(2);
    expect(r.err).toContain('not JSON');
    expect(r.err).toContain('Adapter ready, waiting for the kit');
  });

  it('an answer without ok, or with an id never sent: exit 2 showing what it sent', async () => {
    const noOk = scriptAdapter('no-ok', "require('readline').createInterface({input:process.stdin}).on('line',(l)=>{const m=JSON.parse(l);console.log(JSON.stringify({id:m.id,name:'x'}));});");
    const r = await cli('--adapter', noOk);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no "ok".*"name":"x"/);
    const wrongId = scriptAdapter('wrong-id', "require('readline').createInterface({input:process.stdin}).on('line',(l)=>{console.log(JSON.stringify({id:99,ok:true}));});");
    const w = await cli('--adapter', wrongId);
    expect(w.code).toBe(2);
    expect(w.err).toContain('answered id 99');
  });

  it('an adapter that breaks the protocol mid-run: exit 2 naming the case and the message it waited for; the reports hold the cases that ended', async () => {
    const adapter = brokenAdapter('garbage-mid', [["case 'leave':", "case 'leave': if (client.session.counters.connections > 1) console.log('leaving now');"]]);
    const json = join(dir, 'garbage.json');
    const junit = join(dir, 'garbage.xml');
    const r = await cli('--adapter', adapter, '--only', 'model', '--json', json, '--junit', junit, '--quiet-ms', '50', '--jobs', '1');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/in case model:\S+: the adapter wrote a line to stdout that is not JSON .*leaving now.*waiting for the answer to \{"id":\d+,"type":"leave"\}/);
    const result = JSON.parse(readFileSync(json, 'utf8')) as { aborted: string; cases: Array<{ status: string }> };
    expect(result.aborted).toContain('leaving now');
    expect(result.cases.length).toBeGreaterThan(0);
    expect(result.cases.every((c) => c.status === 'passed')).toBe(true);
    expect(readFileSync(junit, 'utf8')).toContain(`<testsuites name="loop-room-state conform" tests="${result.cases.length}"`);
  });

  it('--adapter "": a usage error (exit 2), not a failure to spawn', async () => {
    for (const empty of ['', '  ']) {
      const r = await cli('--adapter', empty);
      expect(r.code).toBe(2);
      expect(r.err).toContain('--adapter needs a command');
      expect(r.err).toContain('loop-room-state conform (--adapter');
    }
  });

  it('a report path that cannot be written: exit 2 before any adapter starts, and no other report file is left', async () => {
    const log = join(dir, 'unwritable-starts.log');
    const adapter = brokenAdapter('unwritable', [["case 'hello':", `case 'hello': (await import('node:fs')).appendFileSync(${JSON.stringify(log)}, 'x');`]]);
    const fine = join(dir, 'fine.json');
    const r = await cli('--adapter', adapter, '--junit', join(dir, 'no-such-dir', 'r.xml'), '--json', fine);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`cannot write --junit ${join(dir, 'no-such-dir', 'r.xml')}`);
    expect(existsSync(log)).toBe(false);
    expect(existsSync(fine)).toBe(false);
  });

  it('a report that cannot be written at the end: the others are written, exit 2', async () => {
    const gone = join(dir, 'goes-away');
    mkdirSync(gone);
    // The adapter removes the directory once the paths have been checked.
    const adapter = brokenAdapter('remover', [["case 'hello':", `case 'hello': (await import('node:fs')).rmSync(${JSON.stringify(gone)}, { recursive: true, force: true });`]]);
    const json = join(dir, 'kept.json');
    const r = await cli('--adapter', adapter, '--cases', 'model:init|Session.connectionCreated|0', '--junit', join(gone, 'r.xml'), '--json', json, ...FAST);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`cannot write --junit ${join(gone, 'r.xml')}`);
    expect(JSON.parse(readFileSync(json, 'utf8')).summary).toMatchObject({ total: 1, passed: 1 });
  });

  it('--list prints every case id with what it checks, without an adapter', async () => {
    const r = await cli('--list');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(92);
    expect(lines).toContain('wire:hawk:503-retry-after  Hawk: 503 with Retry-After: 1 on report 2: it is sent again, not earlier than 1 s later, and report 3 only after it');
    expect((await cli('--list', '--only', 'wire', '--max-count', '2')).out.trim().split('\n')).toHaveLength(18);
  });

  it('an adapter that does not start, and bad options: exit 2', async () => {
    const r = await cli('--adapter', join(dir, 'no-such-adapter'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/exited with code 127|could not start/);
    expect((await cli('--self', '--only', 'everything')).code).toBe(2);
    expect((await cli()).code).toBe(2);
    const unknown = await cli('--self', '--cases', 'model:nope');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no such case: model:nope');
  });
});

describe('conform: reports', () => {
  let browser: Browser;
  let built: string;
  beforeAll(async () => {
    built = buildInto();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('the Python example adapter passes every case; JUnit parses with one testcase per case', async () => {
    const junit = join(dir, 'py.xml');
    const json = join(dir, 'py.json');
    const r = await cli('--adapter', `python3 "${EXAMPLE_PY}"`, '--junit', junit, '--json', json, ...FAST);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/92 cases against 'example Python client': 92 passed, 0 failed, 0 skipped/);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.format).toBe(1);
    expect(result.cases).toHaveLength(92);
    const page = await browser.newPage();
    const parsed = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, 'application/xml');
      return {
        error: doc.querySelector('parsererror')?.textContent ?? null,
        tests: doc.documentElement.getAttribute('tests'),
        testcases: doc.querySelectorAll('testsuite > testcase').length,
        failures: doc.querySelectorAll('failure').length,
      };
    }, readFileSync(junit, 'utf8'));
    await page.close();
    expect(parsed).toEqual({ error: null, tests: '92', testcases: 92, failures: 0 });
  });

  it('a failing client: a line per failing case, exit 1; JUnit failures; the HTML page shows the matrix and links into the visualizer at the first divergence', async () => {
    const adapter = brokenAdapter('html-wrong-settle', [["return state === 'waiting' || state === 'starting' ? 'starting' : 'cleanup';", "return 'starting';"]]);
    const cases = ['model:sending|Publisher.streamDestroyed|0', 'model:init|Session.connectionCreated|0', 'wire:hawk:auth'];
    const html = join(dir, 'broken.html');
    const junit = join(dir, 'broken.xml');
    const r = await cli('--adapter', adapter, '--cases', cases.join(','), '--html', html, '--junit', junit, '--visualizer', pathToFileURL(join(built, 'visualizer.html')).href, ...FAST);
    expect(r.code).toBe(1);
    const failLines = r.out.split('\n').filter((l) => l.startsWith('FAIL '));
    expect(failLines).toHaveLength(1);
    // Printed once, as the case ended: not again on stderr.
    expect(r.err).not.toContain('FAIL ');
    expect(failLines[0]).toContain('FAIL model:sending|Publisher.streamDestroyed|0: step 4 (Publisher.streamDestroyed)');
    expect(failLines[0]).toContain('"state":"cleanup"');
    expect(failLines[0]).toContain('"state":"starting"');
    expect(r.out).toContain('3 cases');
    expect(readFileSync(junit, 'utf8')).toContain('<failure message="step 4 (Publisher.streamDestroyed): expected');

    const page = await browser.newPage();
    await page.goto(pathToFileURL(html).href);
    expect(await page.locator('[data-testid="matrix"]').count()).toBe(1);
    // Every resource is inline: no script, stylesheet or image is fetched.
    expect(await page.evaluate(() => performance.getEntriesByType('resource').length)).toBe(0);
    const failed = page.locator('details.case[data-status="failed"]');
    expect(await failed.count()).toBe(1);
    expect(await failed.getAttribute('open')).not.toBeNull();
    // In the matrix only the transition that diverged is marked failed; the ones before it in the case passed.
    expect(await page.locator('.matrix a.failed').count()).toBe(1);
    expect(await page.locator('.matrix a.failed').getAttribute('href')).toBe('#case-model_sending_Publisher_streamDestroyed_0');
    expect(await page.locator('.matrix a.failed').getAttribute('title')).toContain('sending --Publisher.streamDestroyed [isLastSendStream]--> cleanup');
    const replayHref = (await failed.locator('[data-testid="replay-file"]').getAttribute('href'))!;
    const tracks = parseReplay(decodeURIComponent(replayHref.replace(/^data:application\/json;charset=utf-8,/, '')));
    expect(tracks[0].observed[3]).toMatchObject({ accepted: true, state: 'starting' });
    const link = (await failed.locator('[data-testid="visualizer-link"]').getAttribute('href'))!;
    expect(link).toContain('#events=');
    // Followed, the link opens the visualizer with the case's events up to the divergence: the model's state there.
    const events = decodeURIComponent(link.split('#events=')[1]).split(',');
    expect(events).toHaveLength(4);
    await page.goto(link);
    await page.waitForSelector('body[data-diagram="ready"]');
    expect(await page.locator('[data-testid="current-state"]').textContent()).toBe(walkRoom(events).at(-1)!.state);
    await page.close();
  });

  it('an adapter without Hawk: the Hawk wire cases are skipped, never passed; exit 0', async () => {
    const adapter = brokenAdapter('basic-only', [["auth: ['basic', 'hawk']", "auth: ['basic']"]]);
    const json = join(dir, 'basic-only.json');
    const r = await cli('--adapter', adapter, '--only', 'wire', '--json', json, ...FAST);
    expect(r.code).toBe(0);
    const result = JSON.parse(readFileSync(json, 'utf8')) as { cases: Array<{ id: string; status: string; reason?: string }> };
    const hawk = result.cases.filter((c) => c.id.startsWith('wire:hawk:'));
    expect(hawk.length).toBe(9);
    for (const c of hawk) expect(c).toMatchObject({ status: 'skipped', reason: expect.stringContaining('does not offer Hawk') });
    expect(r.out).toContain('SKIP wire:hawk:auth');
    expect(result.cases.filter((c) => c.status === 'passed').map((c) => c.id).every((id) => id.startsWith('wire:basic:'))).toBe(true);
  });
});

describe('conform: adapter processes', () => {
  it('--fresh-process starts the adapter anew for every case', async () => {
    const log = join(dir, 'hellos.log');
    const adapter = brokenAdapter('counting', [["case 'hello':", `case 'hello': (await import('node:fs')).appendFileSync(${JSON.stringify(log)}, process.pid + '\\n');`]]);
    const cases = ['model:init|Session.connectionCreated|0', 'model:init|*|0', 'wire:basic:auth'];
    const r = await cli('--adapter', adapter, '--cases', cases.join(','), '--fresh-process', ...FAST);
    expect(r.code).toBe(0);
    const pids = readFileSync(log, 'utf8').trim().split('\n');
    // The first answers the run's hello; then one per case.
    expect(new Set(pids).size).toBe(cases.length + 1);
  });

  it('an adapter that exits in a case: that case fails naming the exit and the message it waited for, a fresh adapter runs the rest, exit 1', async () => {
    const adapter = brokenAdapter('crash', [["case 'leave':", "case 'leave': if (client.session.counters.connections > 1) process.exit(3);"]]);
    const json = join(dir, 'crash.json');
    const r = await cli('--adapter', adapter, '--only', 'model', '--max-count', '2', '--json', json, ...FAST);
    expect(r.code).toBe(1);
    const result = JSON.parse(readFileSync(json, 'utf8')) as { cases: Array<{ id: string; status: string; steps: Array<{ connections: number }>; divergence?: { event: string; received: string } }> };
    const crashes = result.cases.filter((c) => c.steps.at(-1)!.connections > 1);
    expect(crashes.length).toBeGreaterThan(0);
    for (const c of crashes) {
      expect(c.status).toBe('failed');
      expect(c.divergence).toMatchObject({ event: 'leave', received: expect.stringMatching(/^the adapter exited with code 3\b.*\(the kit was waiting for the answer to \{"id":\d+,"type":"leave"\}\)/) });
      expect(r.out).toContain(`FAIL ${c.id}: step`);
    }
    // Every other case ran on a fresh adapter, and passed.
    expect(result.cases.filter((c) => c.status === 'passed')).toHaveLength(result.cases.length - crashes.length);
  });

  it('an adapter that never answers leave: those cases fail at the leave (--timeout-ms), the run goes on, exit 1', async () => {
    const adapter = brokenAdapter('stuck-leave', [["case 'leave':", "case 'leave': await new Promise(() => {});"]]);
    const json = join(dir, 'stuck.json');
    const r = await cli('--adapter', adapter, '--cases', 'model:init|Session.connectionCreated|0,model:init|*|0', '--timeout-ms', '400', '--json', json, ...FAST);
    expect(r.code).toBe(1);
    const result = JSON.parse(readFileSync(json, 'utf8')) as { cases: Array<{ status: string; divergence: { event: string; received: string } }> };
    expect(result.cases.map((c) => c.status)).toEqual(['failed', 'failed']);
    for (const c of result.cases) expect(c.divergence).toMatchObject({ event: 'leave', received: expect.stringContaining('within 400 ms') });
  });
});

describe('conform: rerunning what failed', () => {
  it('the run ends with a command that reruns exactly the failing cases, walks included (their seed, count and length kept)', async () => {
    const adapter = brokenAdapter('rerun-wrong-settle', [["return state === 'waiting' || state === 'starting' ? 'starting' : 'cleanup';", "return 'starting';"]]);
    const cases = ['model:sending|Publisher.streamDestroyed|0', 'model:init|Session.connectionCreated|0', 'walk:7:1', 'walk:7:2', 'walk:7:3'];
    const first = await cli('--adapter', adapter, '--seed', '7', '--walks', '3', '--length', '30', '--cases', cases.join(','), '--junit', join(dir, 'rerun.xml'), ...FAST);
    expect(first.code).toBe(1);
    const failedIds = (out: string) => out.split('\n').filter((l) => l.startsWith('FAIL ')).map((l) => /^FAIL (\S+?)(?: \[shrunk|: )/.exec(l)![1]).sort();
    const failed = failedIds(first.out);
    expect(failed).toContain('model:sending|Publisher.streamDestroyed|0');
    expect(failed.some((id) => id.startsWith('walk:'))).toBe(true);
    const line = first.out.split('\n').find((l) => l.startsWith('Rerun the failing cases: loop-room-state conform '))!;
    // The words a shell makes of the command (its quoting is the shell's).
    const words = execFileSync('bash', ['-c', `eval "set -- $1"; printf '%s\\0' "$@"`, '_', line.slice('Rerun the failing cases: loop-room-state conform '.length)], { encoding: 'utf8' }).split('\0').slice(0, -1);
    expect(words).not.toContain('--junit');
    const again = await cli(...words);
    expect(again.code).toBe(1);
    expect(failedIds(again.out)).toEqual(failed);
    expect(again.out).toContain(`${failed.length} cases`);
  });
});

describe('conform: random walks', () => {
  it('a failing walk is shrunk to a shortest failing prefix, and that is what is reported', async () => {
    const adapter = brokenAdapter('walk-wrong-settle', [["return state === 'waiting' || state === 'starting' ? 'starting' : 'cleanup';", "return 'starting';"]]);
    const result = await runConformance({ adapter, only: 'model', cases: ['walk:7:1', 'walk:7:2', 'walk:7:3'], walks: { seed: 7, walks: 3, length: 30 }, quietMs: 50, jobs: 3 });
    const failed = result.cases.filter((c) => c.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const c of failed) {
      expect(c.shrunkFrom).toBe(30);
      // The bug shows at the first step that settles in cleanup: the shrunk walk ends there.
      expect(c.steps.at(-1)!.state).toBe('cleanup');
      expect(c.steps.slice(0, -1).some((s) => s.state === 'cleanup')).toBe(false);
      expect(c.divergence!.step).toBe(c.steps.length);
    }
    // A walk that never reaches cleanup passes against this client.
    for (const c of result.cases.filter((r) => r.status === 'passed')) expect(c.steps.some((s) => s.state === 'cleanup')).toBe(false);
  });
});
