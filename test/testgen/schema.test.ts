import Ajv2020 from 'ajv/dist/2020';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateTestCases } from '../../src/testing';

const schema = JSON.parse(readFileSync(join(__dirname, '../../docs/test-vectors.schema.json'), 'utf8'));
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

describe('docs/test-vectors.schema.json (JSON Schema 2020-12)', () => {
  it.each([
    ['transition tour', () => generateTestCases()],
    ['transition tour, max count 3', () => generateTestCases({ maxCount: 3 })],
    ['state tour', () => generateTestCases({ coverage: 'states' })],
    ['random walks', () => generateTestCases({ seed: 5, walks: 3 })],
  ])('the %s, as JSON, is valid', (_name, make) => {
    const json = JSON.parse(JSON.stringify(make()));
    expect(validate(json) ? [] : validate.errors).toEqual([]);
  });

  it.each([
    ['a missing counter', (s: Record<string, unknown>) => { delete s.recvStreams; }],
    ['an unknown state', (s: Record<string, unknown>) => { s.state = 'connected'; }],
    ['a negative counter', (s: Record<string, unknown>) => { s.connections = -1; }],
    ['a fractional counter', (s: Record<string, unknown>) => { s.sendStreams = 0.5; }],
    ['an extra field', (s: Record<string, unknown>) => { s.sessions = 2; }],
    ['accepted as a string', (s: Record<string, unknown>) => { s.accepted = 'true'; }],
  ])('a step with %s is invalid', (_name, spoil) => {
    const json = JSON.parse(JSON.stringify(generateTestCases()));
    spoil(json[0].steps[0]);
    expect(validate(json)).toBe(false);
  });

  it('a case without steps is invalid', () => {
    expect(validate([{ id: 'x', description: '', steps: [] }])).toBe(false);
  });
});
