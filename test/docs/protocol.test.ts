// docs/protocol.md is written by hand, in words; its tables must still say what the model does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COUNTING, ROOM_EVENTS, ROOM_STATES } from '../../machines/domain';
import { SPEC_DIAGRAM_EDGES } from '../../src/model/specDiagram';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { walkRoom } from '../../src/model/step';
import { invariantHolds } from '../support/specOracle';

const ROOT = join(__dirname, '..', '..');
const doc = readFileSync(join(ROOT, 'docs/protocol.md'), 'utf8');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The rows of the first table after `heading`, cells trimmed and unquoted from code spans. */
function table(heading: string): string[][] {
  const at = doc.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`no heading ${heading}`);
  const lines = doc.slice(at).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((c) => c.trim().replace(/^`(.*)`$/, '$1')));
  }
  return rows;
}

it('1.1: the counting table is the domain counting', () => {
  const rows = table('### 1.1 Events and counters');
  const fromDoc = rows.flatMap(([counter, up, down]) => [[up, counter, 1], [down, counter, -1]]);
  expect(fromDoc.sort()).toEqual(ROOM_EVENTS.map((e) => [e, COUNTING[e].counter, COUNTING[e].delta]).sort());
});

it('1.2: the report example is a report the model produces, fields in order', () => {
  const example = /^\{"action":"status".*\}$/m.exec(doc)![0];
  const steps = walkRoom(['Session.connectionCreated', 'Publisher.streamCreated', 'Session.connectionCreated', 'Session.streamCreated']);
  expect(example).toBe(JSON.stringify(steps[3].report));
});

it('2: the states, in order', () => {
  expect(table('## 2. States').map((r) => r[0])).toEqual([...ROOM_STATES]);
});

it('3: the diagram table is the transcribed diagram', () => {
  expect(table('## 3. The diagram').map(([from, event, , to]) => ({ from, event, to }))).toEqual(SPEC_DIAGRAM_EDGES);
});

it('4.2: the invariants table agrees with the oracle on every small counter triple', () => {
  const rows = table('### 4.2 Invariants');
  const holds = (rule: string, n: number) => (rule === 'any' ? true : rule.startsWith('>=') ? n >= Number(rule.slice(2)) : rule.startsWith('>') ? n > Number(rule.slice(1)) : n === Number(rule));
  expect(rows.map((r) => r[0])).toEqual([...ROOM_STATES]);
  for (const [state, c, s, r] of rows)
    for (let connections = 0; connections <= 3; connections++)
      for (let sendStreams = 0; sendStreams <= 2; sendStreams++)
        for (let recvStreams = 0; recvStreams <= 2; recvStreams++)
          expect([state, connections, sendStreams, recvStreams, holds(c, connections) && holds(s, sendStreams) && holds(r, recvStreams)]).toEqual([
            state, connections, sendStreams, recvStreams, invariantHolds(state as never, { connections, sendStreams, recvStreams }),
          ]);
});

it('5: the worked example is the model walked', () => {
  const rows = table('## 5. Worked example');
  const expected = walkRoom(WORKED_EXAMPLE.map((r) => r.event)).map((s, i) => [String(i + 1), s.event, s.state, ...[s.counters.connections, s.counters.sendStreams, s.counters.recvStreams].map(String)]);
  expect(rows).toEqual(expected);
});

it('the README starts with the two repository commands, and says how to install before it shows any code', () => {
  const firstBlock = readme.slice(readme.indexOf('```sh\n') + 6, readme.indexOf('```', readme.indexOf('```sh\n') + 6));
  expect(firstBlock.split('\n').filter(Boolean).map((l) => l.split('#')[0].trim())).toEqual(['npm ci && npm start', 'npm ci && npm test']);
  const install = readme.indexOf('npm install loop-room-state xstate');
  const firstCode = readme.search(/```(ts|js|typescript|javascript)\n/);
  expect(install).toBeGreaterThan(0);
  expect(install).toBeLessThan(firstCode);
});
