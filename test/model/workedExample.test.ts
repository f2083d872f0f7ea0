import { createActor } from 'xstate';
import { roomSessionMachine } from '../../machines/roomSession';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { walkRoom } from '../../src/model/step';

describe('spec section 5: the worked example', () => {
  it('a started actor passes through every row, step by step', () => {
    const actor = createActor(roomSessionMachine).start();
    const anomalies: unknown[] = [];
    actor.on('anomaly', (a) => anomalies.push(a));
    for (const row of WORKED_EXAMPLE) {
      actor.send({ type: row.event });
      const snap = actor.getSnapshot();
      expect({ event: row.event, state: snap.value, ...snap.context }).toEqual(row);
    }
    expect(anomalies).toEqual([]);
  });

  it('the pure walk yields one report per row, naming the settled state and the counters after the event', () => {
    const steps = walkRoom(WORKED_EXAMPLE.map((r) => ({ type: r.event })));
    expect(steps.map((s) => s.report)).toEqual(
      WORKED_EXAMPLE.map((r) => ({ action: 'status', event: r.event, state: r.state, connections: r.connections, sendStreams: r.sendStreams, recvStreams: r.recvStreams })),
    );
  });
});
