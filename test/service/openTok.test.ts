// The OpenTok adapter drives a room session end to end, from EventEmitter stand-ins that follow
// OpenTok's event shapes (session: connectionCreated {connection}, connectionDestroyed {connection, reason},
// streamCreated {stream}, streamDestroyed {stream, reason}; publisher: streamCreated/streamDestroyed {stream}).
import { EventEmitter } from 'node:events';
import { startRoomServer, type RoomServer } from '../support/fakeLoopServer';
import { attachOpenTok } from '../../src/adapters/openTok';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { recordedSession } from './helpers';

/** OpenTok's emitters have on/off(type, handler); EventEmitter has both. */
class FakeOpenTokSession extends EventEmitter {
  connection = { connectionId: 'me', creationTime: Date.now(), data: '' };
  dispatch(type: string, payload: object) {
    this.emit(type, { type, target: this, cancelable: false, ...payload });
  }
}
const connection = (id: string) => ({ connectionId: id, creationTime: Date.now(), data: '' });
const stream = (id: string, videoType: 'camera' | 'screen' = 'camera') => ({ streamId: id, connection: connection(`c-${id}`), hasAudio: true, hasVideo: true, videoType, name: '' });

let server: RoomServer;
beforeEach(async () => {
  server = await startRoomServer();
});
afterEach(() => server.close());

it('the worked example, driven through SDK events, reaches the server as eight reports', async () => {
  const session = new FakeOpenTokSession();
  const publisher = new FakeOpenTokSession();
  const rec = recordedSession(server, 'hawk');
  const detach = attachOpenTok({ session, publisher }, rec.session);

  session.dispatch('connectionCreated', { connection: session.connection }); // our own connection counts (row 1)
  publisher.dispatch('streamCreated', { stream: stream('mine') });
  session.dispatch('connectionCreated', { connection: connection('peer') });
  session.dispatch('streamCreated', { stream: stream('theirs') });
  session.dispatch('streamDestroyed', { stream: stream('theirs'), reason: 'clientDisconnected' });
  session.dispatch('connectionDestroyed', { connection: connection('peer'), reason: 'clientDisconnected' });
  publisher.dispatch('streamDestroyed', { stream: stream('mine'), reason: 'unpublished' });
  session.dispatch('connectionDestroyed', { connection: session.connection, reason: 'networkDisconnected' });
  // our own disconnect is not one of the six events, and is not reported
  session.dispatch('sessionDisconnected', { reason: 'clientDisconnected' });
  await rec.session.flush();

  expect(server.statusBodies()).toEqual(WORKED_EXAMPLE.map((r) => ({ action: 'status', ...r })).map(({ action, event, state, connections, sendStreams, recvStreams }) => ({ action, event, state, connections, sendStreams, recvStreams })));
  expect(rec.anomalies).toEqual([]);
  expect(rec.errors).toEqual([]);

  detach();
  for (const e of [session, publisher]) for (const t of ['connectionCreated', 'connectionDestroyed', 'streamCreated', 'streamDestroyed']) expect(e.listenerCount(t)).toBe(0);
  session.dispatch('connectionCreated', { connection: connection('late') });
  expect(rec.session.getSnapshot().context.connections).toBe(0);
  rec.session.stop();
});

it('a screen-share publisher adds a send stream; detach removes only what it added', async () => {
  const session = new FakeOpenTokSession();
  const publisher = new FakeOpenTokSession();
  const screenPublisher = new FakeOpenTokSession();
  const own = () => {};
  session.on('streamCreated', own); // the application's own listener must survive detach
  const rec = recordedSession(server, 'basic');
  const detach = attachOpenTok({ session, publisher, screenPublisher }, rec.session);
  session.dispatch('connectionCreated', { connection: session.connection });
  session.dispatch('connectionCreated', { connection: connection('peer') });
  publisher.dispatch('streamCreated', { stream: stream('cam') });
  screenPublisher.dispatch('streamCreated', { stream: stream('screen', 'screen') });
  screenPublisher.dispatch('streamDestroyed', { stream: stream('screen', 'screen'), reason: 'unpublished' });
  await rec.session.flush();
  expect(server.statusBodies().map((b) => { const { state, sendStreams } = b as { state: string; sendStreams: number }; return [state, sendStreams]; })).toEqual([
    ['waiting', 0], ['starting', 0], ['sending', 1], ['sending', 2], ['sending', 1],
  ]);
  detach();
  detach(); // twice is harmless
  expect(session.listeners('streamCreated')).toEqual([own]);
  expect(screenPublisher.listenerCount('streamCreated')).toBe(0);
  rec.session.stop();
});

it('rejects sources that are not emitters with a clear error', () => {
  const rec = recordedSession(server, 'basic');
  expect(() => attachOpenTok({} as never, rec.session)).toThrow(/sources.session must have on/);
  expect(() => attachOpenTok({ session: new EventEmitter(), publisher: {} as never }, rec.session)).toThrow(/sources.publisher/);
  rec.session.stop();
});
