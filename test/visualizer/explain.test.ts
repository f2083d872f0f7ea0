// The page's words and availability, checked against the machine (Node, no browser): guard descriptions against
// the machine's own guards, the built page's diagram against a fresh layout from the machine.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ROOM_EVENTS, ROOM_STATES } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { diagramEdges } from '../../src/model/diagramEdges';
import { edgeGroups } from '../../src/visualizer/page/edgeGroups';
import { allCandidates, guardHolds } from '../../src/model/candidates';
import { initialRoomSnapshot, stepRoom } from '../../src/model/step';
import { availableCandidates } from '../../src/visualizer/scenario';
import { describedGuardHolds, edgeName, GUARD_WORDS, guardCondition, STATE_MEANING } from '../../src/visualizer/page/explain';
import { pageDot, pageSvg } from '../../src/visualizer/page/layout';
import { availableEdgeIds } from './oracle';

const ROOT = join(__dirname, '..', '..');
const guards = Object.keys(roomSessionMachine.implementations.guards);

describe('words for the machine', () => {
  it("every guard's description holds exactly when the machine's guard does (all counters 0..4)", () => {
    expect(Object.keys(GUARD_WORDS).sort()).toEqual([...guards].sort());
    for (const g of guards)
      for (let connections = 0; connections <= 4; connections++)
        for (let sendStreams = 0; sendStreams <= 4; sendStreams++)
          for (let recvStreams = 0; recvStreams <= 4; recvStreams++) {
            const c = { connections, sendStreams, recvStreams };
            expect({ g, c, holds: describedGuardHolds(g, c) }).toEqual({ g, c, holds: guardHolds(g, c, 'always') });
          }
  });

  it('says a guard in words, with the count after the event where the event changes it', () => {
    expect(guardCondition('isLastPeerConnection', 'Session.connectionDestroyed')).toBe('connections is 2 before the event, 1 after: the last peer leaves');
    expect(guardCondition('isLastSendStream', 'Publisher.streamDestroyed')).toBe('sendStreams is 1 before the event, 0 after: the last sent stream ends');
    expect(guardCondition('hasSendAndRecvStreams', 'always')).toBe('sendStreams is more than 0 and recvStreams is more than 0: media already flows both ways');
    // Every guard the diagram draws has words (no raw guard name falls through).
    for (const e of diagramEdges()) if (e.guard) expect(guardCondition(e.guard, e.candidate.event)).not.toBe(e.guard);
  });

  it('names every state and edge', () => {
    expect(Object.keys(STATE_MEANING).sort()).toEqual([...ROOM_STATES].sort());
    const names = diagramEdges().map(edgeName);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('sending to sendrecv on Session.streamCreated');
    expect(names).toContain('sendrecv to waiting on Session.connectionDestroyed [last peer]');
  });
});

/** The line the page draws an edge on: its own, or its group's (the call frame's one line). */
const GROUPS = edgeGroups(diagramEdges());
const lineOf = (id: string) => GROUPS.find((g) => g.members.some((m) => m.id === id))?.id ?? id;

describe('what the current snapshot would take now', () => {
  const edgeOf = new Map(diagramEdges().map((e) => [e.candidate.id, e.id]));
  it("equals the pure step's answer after any event sequence (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ROOM_EVENTS), { maxLength: 30 }), (events) => {
        let snapshot = initialRoomSnapshot();
        for (const type of events) snapshot = stepRoom(snapshot, { type }).snapshot;
        const page = [...new Set([...availableCandidates(snapshot).keys()].map((id) => edgeOf.get(id)).filter((x): x is string => x !== undefined).map(lineOf))].sort();
        expect(page).toEqual(availableEdgeIds(snapshot));
      }),
      { numRuns: 300 },
    );
  });

  it('names candidates of the machine: at init, the join and the two counted streams', () => {
    const ids = new Set(allCandidates().map((c) => c.id));
    for (const id of availableCandidates(initialRoomSnapshot()).keys()) expect(ids.has(id)).toBe(true);
    // At init: the join is the only drawn edge; the two stream events only count (root candidates, not drawn).
    expect([...availableCandidates(initialRoomSnapshot()).entries()].filter(([id]) => edgeOf.has(id))).toEqual([['init|Session.connectionCreated|0', 'Session.connectionCreated']]);
  });
});

describe('the built page', () => {
  it('embeds the diagram the machine gives now (rebuild with `npm run build` after changing the machine)', async () => {
    const file = join(ROOT, 'dist/visualizer.html');
    if (!existsSync(file)) throw new Error('dist/visualizer.html is missing: run `npm run build` (npm test does)');
    const html = readFileSync(file, 'utf8');
    const embedded = /<svg[\s\S]*?<\/svg>/.exec(html)?.[0];
    expect(embedded).toBe(await pageSvg());
    // The page's DOT draws every state and every state-changing candidate of the machine, once: on a line of its own,
    // or on its group's one line from the call's frame.
    const dot = pageDot();
    for (const s of ROOM_STATES) expect(dot).toContain(`id="state-${s}"`);
    for (const e of diagramEdges()) expect(dot.split(`id="${lineOf(e.id)}"`)).toHaveLength(2);
  });

  it('ships no Graphviz, and fits in 400 KiB', () => {
    const html = readFileSync(join(ROOT, 'dist/visualizer.html'), 'utf8');
    expect(Buffer.byteLength(html)).toBeLessThanOrEqual(400 * 1024);
    expect(html).not.toMatch(/WebAssembly|wasm-unsafe-eval/);
  });
});
