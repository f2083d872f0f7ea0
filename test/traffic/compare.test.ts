// Traffic compare's arithmetic, in Node: which two windows a preset reads, what changed on each line, and the words
// and signs the page shows for it; and the pieces of a state's breakdown and of a path on the diagram.
import fc from 'fast-check';
import { ROOM_STATES } from '../../machines/domain';
import { diagramEdges } from '../../src/model/diagramEdges';
import { enteredStep, trafficView, waysOf, total } from '../../src/visualizer/traffic';
import { changeLabel, changeText, compareCounts, compareRanges, countedRange, lineChange, percentText, validRange, CHANGE_SIGN } from '../../src/visualizer/trafficCompare';
import { pathEdges, transitionKey, transitionPaths } from '../../src/visualizer/trafficEdges';
import type { SessionReport, TrafficSnapshot } from '../../src/visualizer/trafficWire';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('the windows a comparison reads', () => {
  it('property: this hour is the last 60 minutes, against the same 60 minutes a calendar day earlier', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }), (now) => {
        const r = compareRanges({ preset: 'hour' }, now);
        expect(r.after).toEqual({ since: new Date(now - HOUR).toISOString(), until: new Date(now).toISOString() });
        expect(validRange(r.before) && validRange(r.after)).toBe(true);
        // A day back, wall clock (23 to 25 hours around a change of summer time).
        const back = now - Date.parse(r.before.until);
        expect(back).toBeGreaterThanOrEqual(DAY - HOUR);
        expect(back).toBeLessThanOrEqual(DAY + HOUR);
        expect(new Date(r.before.until).getHours()).toBe(new Date(now).getHours());
      }),
    );
  });

  it('property: today from midnight up to now, against yesterday from its midnight up to the same time', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }), (now) => {
        const { before, after } = compareRanges({ preset: 'day' }, now);
        const since = new Date(after.since);
        expect([since.getHours(), since.getMinutes(), since.getSeconds()]).toEqual([0, 0, 0]);
        expect(since.getDate()).toBe(new Date(now).getDate());
        expect(after.until).toBe(new Date(now).toISOString());
        const b = new Date(before.since);
        expect([b.getHours(), b.getMinutes()]).toEqual([0, 0]);
        expect(new Date(before.until).getMinutes()).toBe(new Date(now).getMinutes());
        // The same part of each day, where no summer time change falls between them.
        if (Math.abs(Date.parse(after.since) - Date.parse(before.since) - DAY) < 1) expect(Date.parse(after.until) - Date.parse(after.since)).toBe(Date.parse(before.until) - Date.parse(before.since));
      }),
    );
  });

  it('two chosen ranges are read as given; a range must end after it starts', () => {
    const ranges = { before: { since: '2026-11-01T10:00:00.000Z', until: '2026-11-01T11:00:00.000Z' }, after: { since: '2026-11-02T10:00:00.000Z', until: '2026-11-02T12:00:00.000Z' } };
    expect(compareRanges({ preset: 'ranges', ...ranges }, 0)).toEqual(ranges);
    expect(validRange({ since: ranges.before.until, until: ranges.before.since })).toBe(false);
    expect(validRange({ since: ranges.before.since, until: ranges.before.since })).toBe(false);
    expect(validRange({ since: 'yesterday', until: ranges.before.until })).toBe(false);
  });
});

describe('the window the server counted', () => {
  it('is its answer\'s since and until; an end rounded past its minute was counted by the hour, and says so', () => {
    const asked = { since: '2026-11-20T10:05:30.000Z', until: '2026-11-20T11:05:10.000Z' };
    // Minutes kept: since down and until up to their minutes.
    expect(countedRange(asked, { since: '2026-11-20T10:05:00.000Z', until: '2026-11-20T11:06:00.000Z' })).toEqual({ since: '2026-11-20T10:05:00.000Z', until: '2026-11-20T11:06:00.000Z', byHour: false });
    // Older than the minutes kept: to their hours.
    expect(countedRange(asked, { since: '2026-11-20T10:00:00.000Z', until: '2026-11-20T12:00:00.000Z' })).toEqual({ since: '2026-11-20T10:00:00.000Z', until: '2026-11-20T12:00:00.000Z', byHour: true });
    expect(countedRange(asked, { since: '2026-11-20T10:00:00.000Z', until: '2026-11-20T11:06:00.000Z' }).byHour).toBe(true);
    // An answer without them (a named window): the range asked.
    expect(countedRange(asked, { since: null, until: null })).toEqual({ ...asked, byHour: false });
  });
});

describe('what changed on a line', () => {
  it('property: up, down, new, gone, same or unused, exactly as the two counts say; each with its sign', () => {
    fc.assert(
      fc.property(fc.nat(50), fc.nat(50), (before, after) => {
        const c = lineChange(before, after);
        const want = before === 0 && after === 0 ? 'unused' : before === 0 ? 'new' : after === 0 ? 'gone' : after > before ? 'up' : after < before ? 'down' : 'same';
        expect(c.change).toBe(want);
        expect(c.ratio).toBe(before > 0 ? (after - before) / before : null);
        expect(changeLabel(c)).toBe(want === 'unused' ? '' : `${CHANGE_SIGN[want]} ${before}→${after}`);
        expect(changeText(c).startsWith(`${before} → ${after} (`)).toBe(true);
      }),
    );
  });

  it('words and percentages', () => {
    expect(changeText(lineChange(4, 7))).toBe('4 → 7 (+75 %, more than before)');
    expect(changeText(lineChange(4, 1))).toBe('4 → 1 (−75 %, fewer than before)');
    expect(changeText(lineChange(3, 0))).toBe('3 → 0 (−100 %, gone: none now)');
    expect(changeText(lineChange(0, 5))).toBe('0 → 5 (new: none before)');
    expect(percentText(lineChange(2, 2))).toBe('0 %');
  });

  it('compares every line on either side, a line missing on one side counted 0 there', () => {
    const c = compareCounts(new Map([['a', 2], ['b', 3]]), new Map([['b', 3], ['c', 1]]));
    expect(Object.fromEntries([...c].map(([k, v]) => [k, v.change]))).toEqual({ a: 'gone', b: 'same', c: 'new' });
  });
});

describe("a state's breakdown and a path's edges", () => {
  const J = 'Session.connectionCreated';
  const snapshot = (transitions: TrafficSnapshot['transitions']): TrafficSnapshot => ({
    window: 'all',
    at: new Date(0).toISOString(),
    since: null,
    until: null,
    sessions: { started: 3, ended: 2, open: 1 },
    funnel: Object.fromEntries(ROOM_STATES.map((s) => [s, 0])) as TrafficSnapshot['funnel'],
    open: Object.fromEntries(ROOM_STATES.map((s) => [s, 0])) as TrafficSnapshot['open'],
    transitions,
    ended: [{ state: 'starting', reason: 'left', count: 2 }],
    timeToMedia: { count: 0, p50: null, p90: null, p99: null, histogram: [] },
    nonConformance: [],
    paths: [{ states: ['init', 'waiting', 'starting'], truncated: false, count: 2, exampleSession: 's1' }],
    states: Object.fromEntries(ROOM_STATES.map((s) => [s, { entered: 0, timeSpent: { count: 0, meanSeconds: null, p50: null, p90: null }, exampleSessions: [] as string[] }])) as TrafficSnapshot['states'],
  });

  it('ways in and out are machine edges from and to other states, with shares of their side; paths get shares of the ended sessions', () => {
    const v = trafficView(snapshot([
      { from: 'init', event: J, to: 'waiting', count: 3 },
      { from: 'waiting', event: J, to: 'starting', count: 2 },
      { from: 'waiting', event: 'Session.connectionDestroyed', to: 'init', count: 1 },
    ]));
    const w = waysOf(v, 'waiting');
    expect(w.in.filter((x) => x.count > 0).map((x) => [x.other, x.count, x.share])).toEqual([['init', 3, 1]]);
    expect(w.out.filter((x) => x.count > 0).map((x) => [x.other, x.count, Math.round(x.share * 100)])).toEqual([['starting', 2, 67], ['init', 1, 33]]);
    expect(total(w.out)).toBe(3);
    // Every machine edge into or out of the state is listed (unused ones at 0), none of its self-loops.
    expect(w.in.length + w.out.length).toBe(diagramEdges().filter((e) => e.from !== e.to && (e.from === 'waiting' || e.to === 'waiting')).length);
    expect(waysOf(v, 'starting').ended).toEqual([{ state: 'starting', reason: 'left', count: 2 }]);
    expect(v.paths).toEqual([{ states: ['init', 'waiting', 'starting'], truncated: false, count: 2, exampleSession: 's1', share: 1 }]);
  });

  it('property: a path runs along exactly the edges some transition between its consecutive states takes', () => {
    const paths = transitionPaths();
    const keys = [...paths.keys()].map((k) => k.split('|'));
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ROOM_STATES), { minLength: 1, maxLength: 8 }), (states) => {
        const want = new Set<string>();
        for (let i = 1; i < states.length; i++) for (const [from, event, to] of keys) if (from === states[i - 1] && to === states[i]) for (const id of paths.get(transitionKey(from, event, to)) ?? []) want.add(id);
        expect(new Set(pathEdges(states))).toEqual(want);
      }),
    );
    // waiting -> sending settles through starting: both edges.
    const edges = new Map(diagramEdges().map((e) => [e.id, e]));
    expect(pathEdges(['waiting', 'sending']).map((id) => `${edges.get(id)?.from}>${edges.get(id)?.to}`).sort()).toEqual(['starting>sending', 'waiting>starting']);
  });

  it('an example session opens at the report that entered the state; init at the start', () => {
    const r = (seq: number, from: string, state: string): SessionReport => ({
      seq,
      from,
      receivedAt: new Date(seq).toISOString(),
      report: { action: 'status', event: J, state, connections: 1, sendStreams: 0, recvStreams: 0 },
      verdict: 'conformant',
    });
    const reports = [r(1, 'init', 'waiting'), r(2, 'waiting', 'starting'), r(3, 'starting', 'starting'), r(4, 'starting', 'waiting')];
    expect(enteredStep(reports, 'starting')).toBe(2);
    expect(enteredStep(reports, 'waiting')).toBe(1);
    expect(enteredStep(reports, 'init')).toBe(0);
    expect(enteredStep(reports, 'sendrecv')).toBe(0);
  });
});
