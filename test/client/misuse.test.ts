// What plain JavaScript can pass that no compiler caught (issue 20: "unknown options are an error in JS too"):
// misspelt options of the room helpers and of `auth`, and stepRoom given the function initialRoomSnapshot
// instead of its result. Each is a TypeError naming the mistake, and nothing reaches the (real, 127.0.0.1)
// room server.
import { startRoomServer, type RoomServer } from '../support/fakeLoopServer';
import { createRoom, createRoomSession, initialRoomSnapshot, joinRoom, registerHawkSession, stepRoom } from '../../src/index';

let server: RoomServer;
beforeAll(async () => {
  server = await startRoomServer();
});
afterAll(() => server.close());
afterEach(() => expect(server.received).toEqual([]));

// What plain JS may pass: any object.
const js = <T>(o: object) => o as T;

it('the room helpers refuse a misspelt option, naming it and the known ones, before sending anything', async () => {
  const { serverUrl, roomToken, hawk: credentials } = server;
  await expect(createRoom(js({ serverUrl, credentials, roomName: 'r', roomOwner: 'o', maxsize: 2 }))).rejects.toThrow(
    new TypeError('createRoom: unknown option "maxsize"; known options: serverUrl, credentials, roomName, roomOwner, maxSize, expiresIn, fetch, localtimeOffsetMsec, signal'),
  );
  await expect(joinRoom(js({ serverUrl, roomToken, displayName: 'x', clientmaxSize: 1 }))).rejects.toThrow(
    new TypeError('joinRoom: unknown option "clientmaxSize"; known options: serverUrl, roomToken, displayName, clientMaxSize, auth, fetch, localtimeOffsetMsec, signal'),
  );
  await expect(registerHawkSession(serverUrl, js({ sigal: new AbortController().signal }))).rejects.toThrow(
    new TypeError('registerHawkSession: unknown option "sigal"; known options: fetch, localtimeOffsetMsec, signal'),
  );
  // Not an object at all, and the room token's own check, named as the helper's.
  await expect(createRoom(js(undefined as never))).rejects.toThrow(/^createRoom: options must be an object \{ serverUrl, credentials/);
  await expect(joinRoom(js({ serverUrl, roomToken: 'a/b', displayName: 'x' }))).rejects.toThrow(/^joinRoom: roomToken must be a non-empty string of letters/);
});

it("createRoomSession refuses a misspelt field of `auth`, as it does of `join` and `retry`", () => {
  const { serverUrl, roomToken, sessionToken, hawk: credentials } = server;
  expect(() => createRoomSession({ roomToken, serverUrl, auth: js({ type: 'basic', sessiontoken: sessionToken }) })).toThrow(
    new TypeError('createRoomSession: auth: unknown option "sessiontoken"; known options: type, sessionToken'),
  );
  expect(() => createRoomSession({ roomToken, serverUrl, auth: js({ type: 'basic', sessionToken, sessiontoken: sessionToken }) })).toThrow(/auth: unknown option "sessiontoken"/);
  expect(() => createRoomSession({ roomToken, serverUrl, auth: js({ type: 'hawk', credentials, localtimeOffsetMSec: 5 }) })).toThrow(
    new TypeError('createRoomSession: auth: unknown option "localtimeOffsetMSec"; known options: type, credentials, localtimeOffsetMsec'),
  );
  expect(() => createRoomSession({ roomToken, serverUrl, auth: js({ type: 'hawk', credential: credentials }) })).toThrow(/auth: unknown option "credential"/);
  // The fields as spelt are taken.
  createRoomSession({ roomToken, serverUrl, auth: { type: 'hawk', credentials, localtimeOffsetMsec: 5 } }).stop();
  createRoomSession({ roomToken, serverUrl, auth: { type: 'basic', sessionToken } }).stop();
});

it('stepRoom given initialRoomSnapshot itself (or no snapshot) is a TypeError saying to call it; any event still never throws', () => {
  const message = new TypeError('stepRoom: snapshot must be a room snapshot (call initialRoomSnapshot())');
  expect(() => stepRoom(js(initialRoomSnapshot), 'Session.connectionCreated')).toThrow(message);
  expect(() => stepRoom(js(undefined as never), 'Session.connectionCreated')).toThrow(message);
  // A snapshot persisted as JSON has no machine: restore it first.
  expect(() => stepRoom(js(JSON.parse(JSON.stringify(initialRoomSnapshot()))), 'Session.connectionCreated')).toThrow(message);
  const start = initialRoomSnapshot();
  expect(stepRoom(start, 'Session.connectionCreated').step).toMatchObject({ accepted: true, state: 'waiting' });
  for (const event of [undefined, null, 42, {}, { type: 7 }, 'xstate.stop', 'Nope']) expect(stepRoom(start, js(event as never)).step.accepted).toBe(false);
});
