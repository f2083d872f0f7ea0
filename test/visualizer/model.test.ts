// The page's pure parts, run in Node against the real model: scenarios, the URL fragment, replay files, the live protocol.
import { ROOM_EVENTS } from '../../machines/domain';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { LIMITS, applyMessage, checkSessions, liveTrack, parseInspectorMessage, type LiveSession } from '../../src/visualizer/protocol';
import { ReplayError, parseReplay } from '../../src/visualizer/replay';
import { decodeFragment, encodeFragment, eventOptions, walkScenario } from '../../src/visualizer/scenario';
import { inspectUrl } from '../../src/visualizer/inspector';
import { sideTableRows } from '../../src/visualizer/page/tables';
import { generateTestCases } from '../../src/testgen/generate';

const reportOf = (r: (typeof WORKED_EXAMPLE)[number]) => ({ action: 'status', event: r.event, state: r.state, connections: r.connections, sendStreams: r.sendStreams, recvStreams: r.recvStreams });

describe('scenario', () => {
  it('walks the worked example: state, counters and report body per step, and the edges taken', () => {
    const view = walkScenario(WORKED_EXAMPLE.map((r) => r.event));
    expect(view.steps.map((s) => ({ event: s.event, state: s.state, ...s.counters }))).toEqual(WORKED_EXAMPLE.map((r) => ({ ...r })));
    expect(view.steps.map((s) => s.report)).toEqual(WORKED_EXAMPLE.map(reportOf));
    expect(view.steps[0].from).toBe('init');
    // Row 3: waiting -> starting, then settling into sending in the same step.
    expect(view.steps[2].taken).toEqual(['waiting|Session.connectionCreated|0', 'starting|always|1']);
    expect(view.state).toBe('init');
  });

  it('at init, exactly the three decrements are rejected, each with the counter named', () => {
    const opts = eventOptions(walkScenario([]).snapshot);
    expect(opts.map((o) => o.event)).toEqual([...ROOM_EVENTS]);
    const rejected = opts.filter((o) => !o.accepted);
    expect(rejected.map((o) => o.event).sort()).toEqual(['Publisher.streamDestroyed', 'Session.connectionDestroyed', 'Session.streamDestroyed']);
    expect(rejected.find((o) => o.event === 'Session.streamDestroyed')?.reason).toBe(
      'no remote video or audio to stop (recvStreams is already 0: counter-underflow)',
    );
    expect(opts.find((o) => o.event === 'Session.connectionCreated')).toMatchObject({ accepted: true, next: 'waiting' });
  });

  it('keeps rejected and unknown events as rejected steps with no report', () => {
    const view = walkScenario(['Session.streamDestroyed', 'Bogus.event', 'Session.connectionCreated']);
    expect(view.steps.map((s) => [s.accepted, s.anomaly?.reason, s.report === undefined])).toEqual([
      [false, 'counter-underflow', true],
      [false, 'unknown-event', true],
      [true, undefined, false],
    ]);
    expect(view.state).toBe('waiting');
  });

  it('extends a previous walk when it is a prefix, and walks afresh when it is not', () => {
    const events = WORKED_EXAMPLE.map((r) => r.event);
    const first = walkScenario(events.slice(0, 3));
    const extended = walkScenario(events, undefined, first);
    expect(extended.steps.slice(0, 3)).toEqual(first.steps);
    expect(extended).toEqual(walkScenario(events));
    // Not a prefix (undo, then another event): the result is the same as a fresh walk.
    const other = ['Session.connectionCreated', 'Session.connectionCreated'];
    expect(walkScenario(other, undefined, first)).toEqual(walkScenario(other));
    const seen = [{ state: 'waiting' }];
    expect(walkScenario(events.slice(0, 1), seen, walkScenario(events.slice(0, 1))).steps[0].observed).toEqual({ state: 'waiting' });
  });

  it('flags each field where an outside source disagrees with the model', () => {
    const view = walkScenario(['Session.connectionCreated', 'Session.streamDestroyed'], [
      { accepted: true, state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 },
      { accepted: true, state: 'starting', connections: 1, sendStreams: 0, recvStreams: 0 },
    ]);
    expect(view.steps[0].mismatches).toEqual([]);
    expect(view.steps[1].mismatches).toEqual(['source says accepted, model says rejected', 'source says state starting, model says waiting']);
  });
});

describe('URL fragment', () => {
  it('round-trips a sequence, unknown names included', () => {
    const events = ['Session.connectionCreated', 'Publisher.streamCreated', 'Not an event'];
    expect(decodeFragment(encodeFragment(events))).toEqual(events);
    expect(encodeFragment([])).toBe('');
  });
  it('reads events among other parameters, and nothing from an unrelated or broken fragment', () => {
    expect(decodeFragment('#live=ws%3A%2F%2Fx&events=Session.connectionCreated')).toEqual(['Session.connectionCreated']);
    expect(decodeFragment('#top')).toEqual([]);
    expect(decodeFragment('#events=%E0%A4%A,Session.connectionCreated')).toEqual(['%E0%A4%A', 'Session.connectionCreated']);
  });
});

describe('replay files', () => {
  it('reads a status-report array as one track of accepted steps', () => {
    const [track] = parseReplay(JSON.stringify(WORKED_EXAMPLE.map(reportOf)));
    expect(track.events).toEqual(WORKED_EXAMPLE.map((r) => r.event));
    expect(track.observed[2]).toEqual({ accepted: true, state: 'sending', connections: 2, sendStreams: 1, recvStreams: 0 });
    expect(walkScenario(track.events, track.observed).steps.every((s) => s.mismatches.length === 0)).toBe(true);
  });
  it('reads test vectors (array, or wrapped in { vectors })', () => {
    const vectors = [
      { id: 'v1', description: 'one', steps: [{ event: 'Session.connectionCreated', accepted: true, state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 }] },
      { id: 'v2', description: 'two', steps: [{ event: 'Session.streamDestroyed', accepted: false, state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 }] },
    ];
    for (const text of [JSON.stringify(vectors), JSON.stringify({ vectors })]) {
      const tracks = parseReplay(text);
      expect(tracks.map((t) => [t.id, t.description, t.events])).toEqual([
        ['v1', 'one', ['Session.connectionCreated']],
        ['v2', 'two', ['Session.streamDestroyed']],
      ]);
      expect(tracks[1].observed[0].accepted).toBe(false);
    }
  });
  it('replays every case `generate-tests` writes without a single disagreement', () => {
    const cases = generateTestCases({ maxCount: 3 });
    const tracks = parseReplay(JSON.stringify(cases));
    expect(tracks.map((t) => t.id)).toEqual(cases.map((c) => c.id));
    for (const t of tracks) expect(walkScenario(t.events, t.observed).steps.flatMap((s) => s.mismatches)).toEqual([]);
    expect(tracks.some((t) => t.observed.some((o) => o.accepted === false))).toBe(true);
  });
  it.each([
    ['not json', /not JSON/],
    ['{}', /expected a JSON array/],
    ['[]', /empty array/],
    ['[1]', /neither a status report/],
    ['[{"action":"status","event":"Session.connectionCreated","state":"waiting","connections":-1,"sendStreams":0,"recvStreams":0}]', /report 1: "connections" must be a non-negative integer/],
    ['[{"action":"leave"}]', /report 1: "action" must be "status"/],
    ['[{"id":"x","steps":[{"accepted":true}]}]', /vector 1 \(x\) step 1: "event" must be an event type string/],
    ['[{"id":"x","steps":[{"event":"Session.connectionCreated","accepted":"yes"}]}]', /"accepted" must be true or false/],
  ])('refuses %s with a clear message', (text, message) => {
    expect(() => parseReplay(text)).toThrow(ReplayError);
    expect(() => parseReplay(text)).toThrow(message);
  });
});

describe('live protocol', () => {
  const start = { type: 'start', session: 's1', label: 'room', state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 };
  it('validates inspector messages', () => {
    expect(parseInspectorMessage(JSON.stringify(start))).toEqual(start);
    expect(parseInspectorMessage('{')).toEqual({ error: 'message is not JSON' });
    expect(parseInspectorMessage(JSON.stringify({ ...start, connections: 1.5 }))).toEqual({ error: '"connections" must be a non-negative integer' });
    expect(parseInspectorMessage(JSON.stringify({ ...start, type: 'hack' }))).toEqual({ error: '"type" must be start, step or stop' });
    expect(parseInspectorMessage('x'.repeat(LIMITS.maxMessageBytes + 1))).toEqual({ error: 'message too large' });
    // Text as the API takes it (server spec section 7): no control characters, no unpaired surrogates.
    expect(parseInspectorMessage(JSON.stringify({ ...start, label: 'lbl\u0007\n' }))).toEqual({ error: '"label" must be a non-empty string without control characters' });
    expect(parseInspectorMessage(JSON.stringify({ ...start, session: 's\udc00' }))).toMatchObject({ error: expect.stringContaining('"session"') });
    expect(parseInspectorMessage(JSON.stringify({ ...start, label: 'caf\u00e9 \u{1F600}' }))).toMatchObject({ label: 'caf\u00e9 \u{1F600}' });
  });
  it('folds messages into sessions; a live session becomes a track with acceptance read from its counters', () => {
    const sessions = new Map<string, LiveSession>();
    expect(applyMessage(sessions, start as never)).toBe('ok');
    expect(applyMessage(sessions, { type: 'step', session: 's1', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 })).toBe('ok');
    expect(applyMessage(sessions, { type: 'step', session: 's1', event: 'Session.streamDestroyed', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 })).toBe('ok');
    expect(applyMessage(sessions, { type: 'step', session: 'nope', event: 'x', state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 })).toBe('unknown-session');
    expect(applyMessage(sessions, { type: 'stop', session: 's1' })).toBe('ok');
    const s = sessions.get('s1') as LiveSession;
    expect(s.stopped).toBe(true);
    expect(liveTrack(s)).toEqual({
      events: ['Session.connectionCreated', 'Session.streamDestroyed'],
      observed: [
        { accepted: true, state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 },
        { accepted: false, state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 },
      ],
    });
    expect(checkSessions(JSON.parse(JSON.stringify([s])))).toEqual([s]);
    expect(checkSessions([{ ...s, steps: [{ event: 'x', state: 'init', connections: -1 }] }])).toEqual({ error: '"connections" must be a non-negative integer' });
  });
  it('stops keeping steps past the limit, and says so once', () => {
    const sessions = new Map<string, LiveSession>();
    applyMessage(sessions, start as never);
    const step = { type: 'step' as const, session: 's1', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 };
    for (let i = 0; i < LIMITS.maxStepsPerSession; i++) applyMessage(sessions, step);
    expect(applyMessage(sessions, step)).toBe('overflow');
    expect(applyMessage(sessions, step)).toBe('dropped');
    expect(sessions.get('s1')?.steps.length).toBe(LIMITS.maxStepsPerSession);
    expect(sessions.get('s1')?.overflow).toBe(true);
  });
  it('builds the inspector URL from what a user pastes', () => {
    expect(inspectUrl('http://127.0.0.1:7357/')).toBe('ws://127.0.0.1:7357/inspect');
    expect(inspectUrl('ws://127.0.0.1:7357')).toBe('ws://127.0.0.1:7357/inspect');
    expect(inspectUrl('wss://h/custom')).toBe('wss://h/custom');
    expect(() => inspectUrl('127.0.0.1:7357')).toThrow(/ws:\/\/, wss:\/\/, http:\/\/ or https:\/\/|absolute/);
    expect(() => inspectUrl('not a url')).toThrow(/absolute/);
  });
});

describe('side table', () => {
  it('lists the rejections first, each in every state', () => {
    const rows = sideTableRows();
    const rejects = rows.filter((r) => r.kind === 'reject');
    expect(rejects.map((r) => [r.event, r.outcome, r.states])).toEqual([
      ['Session.connectionDestroyed', 'rejected: counter-underflow (no report)', 'every state'],
      ['Session.streamDestroyed', 'rejected: counter-underflow (no report)', 'every state'],
      ['Publisher.streamDestroyed', 'rejected: counter-underflow (no report)', 'every state'],
      ['any other type', 'rejected: unknown-event (no report)', 'every state'],
    ]);
    expect(rows.slice(0, rejects.length).every((r) => r.kind === 'reject')).toBe(true);
  });
});
