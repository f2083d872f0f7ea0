import { createActor } from 'xstate';
import { ROOM_EVENTS, type RoomAnomaly } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { stepRoom, initialRoomSnapshot, walkRoom } from '../../src/model/step';

function started() {
  const actor = createActor(roomSessionMachine);
  const anomalies: RoomAnomaly[] = [];
  actor.on('anomaly', (a) => anomalies.push(a));
  return { actor: actor.start(), anomalies };
}

describe('rejections (issue: counter-underflow and unknown-event leave the snapshot exactly as it was)', () => {
  it.each(['Session.connectionDestroyed', 'Session.streamDestroyed', 'Publisher.streamDestroyed'])('%s at zero is a counter-underflow', (type) => {
    const { actor, anomalies } = started();
    const before = actor.getSnapshot();
    expect(() => actor.send({ type } as never)).not.toThrow();
    const after = actor.getSnapshot();
    expect(after.value).toBe(before.value);
    expect(after.context).toBe(before.context);
    expect(after.context).toEqual({ connections: 0, sendStreams: 0, recvStreams: 0 });
    expect(anomalies).toEqual([{ type: 'anomaly', reason: 'counter-underflow', event: type }]);
  });

  it.each(['Session.StreamDestroyed', 'Sesssion.connectionCreated', 'session.connectionCreated', 'xstate.error.actor.x', '', 'toString'])(
    'the unknown type %j is an unknown-event, in a state with company too',
    (type) => {
      const { actor, anomalies } = started();
      for (const t of ['Session.connectionCreated', 'Session.connectionCreated', 'Session.streamCreated']) actor.send({ type: t } as never);
      const before = actor.getSnapshot();
      expect(before.value).toBe('receiving');
      actor.send({ type } as never);
      expect(actor.getSnapshot().value).toBe('receiving');
      expect(actor.getSnapshot().context).toBe(before.context);
      expect(anomalies).toEqual([{ type: 'anomaly', reason: 'unknown-event', event: type }]);
    },
  );

  it('the pure step never throws, even for events XState itself cannot take', () => {
    const s0 = initialRoomSnapshot();
    // Typed unknown: these are checked at run time (a literal of a wrong type would not compile).
    const bads: unknown[] = [undefined, null, 42, 'Bogus', 'xstate.stop', {}, { type: 42 }, { type: null }, [], { type: 'xstate.stop' }, { type: 'xstate.init' }];
    for (const bad of bads) {
      const { snapshot, step } = stepRoom(s0, bad);
      expect(snapshot).toBe(s0);
      expect(step.accepted).toBe(false);
      expect(step.anomaly?.reason).toBe('unknown-event');
      expect(step.report).toBeUndefined();
    }
  });

  it('accepted events carry a report and no anomaly; rejected ones the reverse', () => {
    const steps = walkRoom(['Session.connectionDestroyed', ...ROOM_EVENTS, 'nope'].map((type) => ({ type })));
    for (const s of steps) expect(Boolean(s.report)).toBe(!s.anomaly);
    expect(steps.filter((s) => s.accepted).map((s) => s.event)).toEqual([
      'Session.connectionCreated',
      'Session.connectionDestroyed',
      'Session.streamCreated',
      'Session.streamDestroyed',
      'Publisher.streamCreated',
      'Publisher.streamDestroyed',
    ]);
  });
});
