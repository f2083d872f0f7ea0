// Per-event cost of the machine: a started actor's send and the pure transition(), each against a hand-written reducer.
import { createActor, initialTransition, transition } from 'xstate';
import { ROOM_EVENTS, roomSessionMachine } from '../dist/index.mjs';
import { fmt, printTable, timeSync } from './harness.mjs';

/** A fixed pseudo-random event stream (mulberry32), so every run measures the same work. */
export function eventStream(length, seed = 42) {
  let a = seed;
  const rand = () => {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length }, () => ({ type: ROOM_EVENTS[Math.floor(rand() * ROOM_EVENTS.length)] }));
}

// The baseline: only the spec's counting, no states, no library.
function reducer(c, e) {
  switch (e.type) {
    case 'Session.connectionCreated': return { ...c, connections: c.connections + 1 };
    case 'Session.connectionDestroyed': return c.connections > 0 ? { ...c, connections: c.connections - 1 } : c;
    case 'Session.streamCreated': return { ...c, recvStreams: c.recvStreams + 1 };
    case 'Session.streamDestroyed': return c.recvStreams > 0 ? { ...c, recvStreams: c.recvStreams - 1 } : c;
    case 'Publisher.streamCreated': return { ...c, sendStreams: c.sendStreams + 1 };
    case 'Publisher.streamDestroyed': return c.sendStreams > 0 ? { ...c, sendStreams: c.sendStreams - 1 } : c;
    default: return c;
  }
}

export default async function () {
  const events = eventStream(4096);
  const mask = events.length - 1;
  let counters = { connections: 0, sendStreams: 0, recvStreams: 0 };
  const base = timeSync((i) => { counters = reducer(counters, events[i & mask]); });

  const actor = createActor(roomSessionMachine);
  actor.on('anomaly', () => {});
  actor.start();
  const send = timeSync((i) => actor.send(events[i & mask]));

  let snap = initialTransition(roomSessionMachine)[0];
  const pure = timeSync((i) => { snap = transition(roomSessionMachine, snap, events[i & mask])[0]; });

  printTable('Per-event cost of the room-session machine (ratio to a hand-written counter reducer, same run)', [
    { what: 'hand-written counter reducer (baseline)', 'ns/event': fmt(base, 1), ratio: '1.00' },
    { what: 'started actor: actor.send(event)', 'ns/event': fmt(send, 1), ratio: fmt(send / base) },
    { what: 'pure transition(machine, snapshot, event)', 'ns/event': fmt(pure, 1), ratio: fmt(pure / base) },
  ]);
}
