// The page's reading of server-sent events: however the bytes are split into chunks, the same events come out.
import fc from 'fast-check';
import { parseEvents } from '../../src/visualizer/page/trafficStream';

const eventArb = fc.record({
  event: fc.constantFrom('traffic', 'trouble', 'message'),
  // Data lines as the server writes them: JSON, no newline inside a line.
  data: fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, ' ')), { minLength: 1, maxLength: 3 }),
});

function serialize(events: Array<{ event: string; data: string[] }>, crlf: boolean): string {
  const nl = crlf ? '\r\n' : '\n';
  return events.map((e) => `: comment${nl}event: ${e.event}${nl}${e.data.map((d) => `data: ${d}`).join(nl)}${nl}${nl}`).join('');
}

describe('parseEvents', () => {
  it('property: any chunking of a stream gives the events that were written, in order', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), (events, cuts, crlf) => {
        const text = serialize(events, crlf);
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        let buffer = '';
        const got: Array<{ event: string; data: string }> = [];
        let from = 0;
        for (const p of [...points, text.length]) {
          buffer += text.slice(from, p);
          from = p;
          const r = parseEvents(buffer);
          got.push(...r.events);
          buffer = r.rest;
        }
        expect(got).toEqual(events.map((e) => ({ event: e.event, data: e.data.join('\n') })));
        expect(buffer).toBe('');
      }),
      { numRuns: 300 },
    );
  });

  it('ignores comments and blocks without data (the keep-alive and the retry hint)', () => {
    expect(parseEvents(': keep-alive\n\nretry: 1000\n\nevent: traffic\ndata: {}\n\nevent: tra')).toEqual({ events: [{ event: 'traffic', data: '{}' }], rest: 'event: tra' });
  });
});
