// generate-tests --isolate: one short case per coverage item, each step naming the items it fires; the
// conform command's model cases are these same cases.
import Ajv2020 from 'ajv/dist/2020';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelCases } from '../../src/conform/cases/model';
import { main } from '../../src/cli/main';
import { coverageOf } from '../../src/testgen/coverage';
import { generateTestCases } from '../../src/testgen/generate';

const validate = new Ajv2020({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync(join(__dirname, '../../docs/test-vectors.schema.json'), 'utf8')));

describe('generate-tests --isolate', () => {
  it.each([2, 3])('at max count %i: one case per reachable item, ending with that item, steps naming what they cover', (maxCount) => {
    const cases = generateTestCases({ isolate: true, maxCount });
    const report = coverageOf(cases, { maxCount });
    expect(report.totals.covered).toBe(report.totals.reachable);
    expect(cases).toHaveLength(report.totals.reachable);
    for (const c of cases) {
      const item = /^Item (\S+):/.exec(c.description)![1];
      expect(c.steps.at(-1)!.covers).toContain(item);
      // Shortest: no earlier step fires it.
      expect(c.steps.slice(0, -1).some((s) => s.covers!.includes(item))).toBe(false);
      // What each step says it covers is what the coverage report credits it with.
      c.steps.forEach((s, i) => {
        const credited = report.items.filter((it) => it.coveredBy.some((b) => b.case === c.id && b.step === i + 1)).map((it) => it.id).sort();
        expect([...s.covers!].sort()).toEqual(credited);
      });
    }
    expect(validate(JSON.parse(JSON.stringify(cases))) ? [] : validate.errors).toEqual([]);
  });

  it("conform's model cases are the isolated cases (same events), plus the unknown-event cases", () => {
    const isolated = generateTestCases({ isolate: true, maxCount: 3 }).map((c) => c.steps.map((s) => s.event).join(' '));
    const model = modelCases(3, 'basic');
    expect(model.filter((c) => c.item).map((c) => c.steps.map((s) => s.event).join(' '))).toEqual(isolated);
    expect(model.filter((c) => !c.item).map((c) => c.id)).toEqual([
      'model:unknown:Session.StreamDestroyed',
      'model:unknown:Publisher.StreamDestroyed',
      'model:unknown:Sesssion.connectionCreated',
      'model:unknown:session.connectioncreated',
      'model:unknown:session.connectiondestroyed',
      'model:unknown:session.streamcreated',
      'model:unknown:session.streamdestroyed',
      'model:unknown:publisher.streamcreated',
      'model:unknown:publisher.streamdestroyed',
    ]);
    // Each unknown event comes where its real event would be accepted, and the real one follows it.
    for (const c of model.filter((m) => !m.item)) {
      const [unknown, real] = c.steps.slice(-2);
      expect(unknown.accepted).toBe(false);
      expect(real.accepted).toBe(true);
      expect(real.event.toLowerCase().replace('sesssion', 'session')).toBe(unknown.event.toLowerCase().replace('sesssion', 'session'));
    }
  });

  it('--isolate with --seed, or with --coverage states, is a usage error (exit 2)', async () => {
    let err = '';
    const io = { out: () => {}, err: (t: string) => (err += t) };
    expect(await main(['generate-tests', '--isolate', '--seed', '1'], io)).toBe(2);
    expect(err).toContain('--isolate and --seed');
    expect(await main(['generate-tests', '--isolate', '--coverage', 'states'], io)).toBe(2);
  });
});
