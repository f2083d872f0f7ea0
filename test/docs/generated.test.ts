import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toMermaid } from '../../src/docs/diagram';
import { renderDocs } from '../../src/docs/render';

describe('generated docs', () => {
  it('the committed docs are what the machine generates (run `npm run docs` after changing the machine)', async () => {
    const docs = await renderDocs();
    expect(Object.keys(docs).length).toBeGreaterThanOrEqual(2);
    for (const [path, content] of Object.entries(docs)) {
      const committed = readFileSync(join(__dirname, '..', '..', path), 'utf8');
      expect({ path, content: committed }).toEqual({ path, content });
    }
  });

  it('the README shows the generated Mermaid diagram', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain('```mermaid\n' + toMermaid() + '```');
  });

  it('the table has a row per candidate of every state x event, and the diagram draws every state', async () => {
    const docs = await renderDocs();
    const md = docs['docs/room-session.md'];
    for (const state of ['init', 'waiting', 'starting', 'sending', 'receiving', 'sendrecv', 'cleanup']) {
      expect(md).toContain(`| \`${state}\` | \`Session.connectionCreated\``);
      expect(docs['docs/room-session.svg'].replace(/&#45;/g, '-')).toContain(`id="state-${state}"`);
    }
    expect(md).toContain('```mermaid\nstateDiagram-v2');
  });
});
