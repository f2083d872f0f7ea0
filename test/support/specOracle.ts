// An independent reading of the spec (sections 1, 3 and 4), written from its text, not from the machine:
// the tests compare the machine against it on every sequence they try.
export type State = 'init' | 'waiting' | 'starting' | 'sending' | 'receiving' | 'sendrecv' | 'cleanup';
export interface Counters {
  connections: number;
  sendStreams: number;
  recvStreams: number;
}
export interface OracleStep {
  accepted: boolean;
  state: State;
  counters: Counters;
  reason?: 'counter-underflow' | 'unknown-event';
}

const TABLE: Record<string, [keyof Counters, number]> = {
  'Session.connectionCreated': ['connections', 1],
  'Session.connectionDestroyed': ['connections', -1],
  'Session.streamCreated': ['recvStreams', 1],
  'Session.streamDestroyed': ['recvStreams', -1],
  'Publisher.streamCreated': ['sendStreams', 1],
  'Publisher.streamDestroyed': ['sendStreams', -1],
};

/** The state the counters name once media is involved (4.3, 4.5). */
function named(c: Counters): State {
  if (c.sendStreams > 0 && c.recvStreams > 0) return 'sendrecv';
  if (c.sendStreams > 0) return 'sending';
  if (c.recvStreams > 0) return 'receiving';
  return 'starting';
}

export function oracleStep(state: State, c: Counters, type: string): OracleStep {
  const entry = Object.hasOwn(TABLE, type) ? TABLE[type] : undefined;
  if (!entry) return { accepted: false, state, counters: c, reason: 'unknown-event' };
  const [counter, delta] = entry;
  if (c[counter] + delta < 0) return { accepted: false, state, counters: c, reason: 'counter-underflow' };
  const n = { ...c, [counter]: c[counter] + delta };
  const withCompany = ['starting', 'sending', 'receiving', 'sendrecv', 'cleanup'].includes(state);
  let next: State = state;
  switch (type) {
    case 'Session.connectionCreated':
      if (state === 'init') next = 'waiting';
      else if (state === 'waiting') next = named(n); // enters starting, settles at once if streams are counted
      break;
    case 'Session.connectionDestroyed':
      if (state === 'waiting') next = 'init';
      else if (withCompany && n.connections === 1) next = 'waiting';
      break;
    case 'Session.streamCreated':
    case 'Publisher.streamCreated':
      if (state === 'starting' || state === 'cleanup') next = named(n);
      else if ((state === 'sending' && n.recvStreams > 0) || (state === 'receiving' && n.sendStreams > 0)) next = 'sendrecv';
      break;
    case 'Publisher.streamDestroyed':
      if (state === 'sendrecv' && n.sendStreams === 0) next = 'receiving';
      else if (state === 'sending' && n.sendStreams === 0) next = 'cleanup';
      break;
    case 'Session.streamDestroyed':
      if (state === 'sendrecv' && n.recvStreams === 0) next = 'sending';
      else if (state === 'receiving' && n.recvStreams === 0) next = 'cleanup';
      break;
  }
  return { accepted: true, state: next, counters: n };
}

export function oracleWalk(types: readonly string[]): OracleStep[] {
  let state: State = 'init';
  let counters: Counters = { connections: 0, sendStreams: 0, recvStreams: 0 };
  return types.map((t) => {
    const s = oracleStep(state, counters, t);
    state = s.state;
    counters = s.counters;
    return s;
  });
}

/** Spec 4.2: the invariant of each settled state. */
export function invariantHolds(state: State, c: Counters): boolean {
  switch (state) {
    case 'init': return c.connections === 0;
    case 'waiting': return c.connections === 1;
    case 'starting': return c.connections >= 2 && c.sendStreams === 0 && c.recvStreams === 0;
    case 'sending': return c.connections >= 2 && c.sendStreams > 0 && c.recvStreams === 0;
    case 'receiving': return c.connections >= 2 && c.sendStreams === 0 && c.recvStreams > 0;
    case 'sendrecv': return c.connections >= 2 && c.sendStreams > 0 && c.recvStreams > 0;
    case 'cleanup': return c.connections >= 2 && c.sendStreams === 0 && c.recvStreams === 0;
  }
}
