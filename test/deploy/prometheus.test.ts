// deploy/prometheus and deploy/grafana (server spec section 8): the alert rules are promtool-clean and pass their
// unit tests (promtool test rules), and the rules and the dashboard use only metric names a real server exposes.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRoom, joinRoom, registerHawkSession } from '../../src/index';
import { freshSqlite } from '../support/stores';
import { post, raw, startServer } from '../server/helpers';
import { ROOT } from '../server/process';
import { findTool, itWith } from '../support/tools';

const promtool = findTool('promtool');
const PROMETHEUS = join(ROOT, 'deploy', 'prometheus');

function run(file: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }));
  });
}

/** The expr of every rule in alerts.yml (inline, or a `|` block). */
export function ruleExpressions(yaml: string): string[] {
  const lines = yaml.split('\n');
  const exprs: string[] = [];
  lines.forEach((line, i) => {
    const m = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!m) return;
    if (m[2] !== '|' && m[2] !== '>') return void exprs.push(m[2]);
    const body: string[] = [];
    for (let j = i + 1; j < lines.length && (lines[j].trim() === '' || lines[j].search(/\S/) > m[1].length); j++) body.push(lines[j]);
    exprs.push(body.join('\n'));
  });
  return exprs;
}

const PROMQL_WORDS = new Set([
  'sum', 'max', 'min', 'avg', 'count', 'by', 'without', 'rate', 'irate', 'increase', 'histogram_quantile', 'and', 'or', 'unless', 'offset', 'on',
  'ignoring', 'group_left', 'group_right', 'bool', 'topk', 'bottomk', 'clamp_min', 'clamp_max', 'abs', 'delta', 'deriv', 'time', 'vector', 'scalar',
  'absent', 'label_values', 'e', 'Inf', 'NaN',
]);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, label names or Grafana variables. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '') // grouping labels
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\$\w+/g, '') // Grafana variables
    .replace(/\b\d+(\.\d+)?(e\d+)?\b/g, '');
  const names = stripped.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(names.filter((n) => !PROMQL_WORDS.has(n)))];
}

describe('alert rules', () => {
  itWith(promtool)('promtool check rules is clean', async () => {
    const r = await run(promtool!, ['check', 'rules', 'alerts.yml'], PROMETHEUS);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code).toBe(0);
  });

  itWith(promtool)('promtool test rules passes (each alert fires on its fault and not before)', async () => {
    const r = await run(promtool!, ['test', 'rules', 'alerts.test.yml'], PROMETHEUS);
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  it('every alert in alerts.yml has a unit test in alerts.test.yml', () => {
    const alerts = [...readFileSync(join(PROMETHEUS, 'alerts.yml'), 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const tested = new Set([...readFileSync(join(PROMETHEUS, 'alerts.test.yml'), 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    expect(alerts.filter((a) => !tested.has(a))).toEqual([]);
  });
});

describe('metric names in deploy/ against a real scrape', () => {
  it('the dashboard and the alert rules name only metrics the server exposes', async () => {
    const server = await startServer(freshSqlite);
    try {
      // One of everything, so that every family has samples.
      const owner = await registerHawkSession(server.serverUrl);
      const { roomToken } = await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'm', roomOwner: 'o' });
      const g = await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'g' });
      const status = { action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 };
      expect((await post(`${server.serverUrl}/rooms/${roomToken}`, status, { basic: g.sessionToken })).status).toBe(204);
      expect((await post(`${server.serverUrl}/rooms/${roomToken}`, { action: 'leave' }, { basic: g.sessionToken })).status).toBe(204);
      await raw(`${server.origin}/metrics`);
      const scrape = (await raw(`${server.origin}/metrics`)).text;
      const exposed = new Set(scrape.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)![0]));

      const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'room-server.json'), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
      const dashboardExprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
      const ruleExprs = ruleExpressions(readFileSync(join(PROMETHEUS, 'alerts.yml'), 'utf8'));
      expect(dashboardExprs.length).toBeGreaterThanOrEqual(10);
      expect(ruleExprs.length).toBeGreaterThanOrEqual(6);
      // `up` is Prometheus's own series for each scrape target.
      const used = [...new Set([...dashboardExprs, ...ruleExprs].flatMap(metricNames))].filter((n) => n !== 'up');
      expect(used.length).toBeGreaterThanOrEqual(10);
      expect(used.filter((n) => !exposed.has(n))).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('the name extraction finds metric names and nothing else', () => {
    expect(metricNames('histogram_quantile(0.9, sum by (le, action) (rate(loop_room_request_duration_seconds_bucket{job=~"$job", code=~"5.."}[$__rate_interval])))')).toEqual(['loop_room_request_duration_seconds_bucket']);
    expect(metricNames('process_resident_memory_bytes{job=~"$job"} / 1e9 and nope_metric > 2 * x_total')).toEqual(['process_resident_memory_bytes', 'nope_metric', 'x_total']);
  });
});
