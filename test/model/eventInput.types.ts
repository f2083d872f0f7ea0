// Compile-time checks for event input (checked by `tsc -p .`, the typecheck step; not a jest suite):
// a literal event type or event object is checked against the six names; a value typed `unknown` or
// `string` passes to the run-time check. Each @ts-expect-error line must fail to compile, or tsc fails.
import { stepRoom, walkRoom, initialRoomSnapshot } from '../../src/model/step';
import { createRoomSession } from '../../src/service/roomSession';
import { attachOpenTok, type OpenTokEmitter } from '../../src/adapters/openTok';

const s0 = initialRoomSnapshot();
stepRoom(s0, 'Session.connectionCreated');
stepRoom(s0, { type: 'Publisher.streamCreated' });
// @ts-expect-error misspelt literal (capital S, as the seed's typo)
stepRoom(s0, 'Session.StreamDestroyed');
// @ts-expect-error misspelt literal inside an event object
stepRoom(s0, { type: 'Sesssion.connectionCreated' });
// @ts-expect-error a number is never an event
stepRoom(s0, 42);

walkRoom(['Session.connectionCreated', { type: 'Publisher.streamCreated' }, 'Session.connectionCreated']);
// @ts-expect-error one misspelt element fails the whole call
walkRoom(['Session.connectionCreated', 'Session.conectionCreated']);
// @ts-expect-error misspelt in an object element
walkRoom([{ type: 'Publisher.streamcreated' }]);

// Values whose type says nothing at compile time are checked at run time (unknown-event).
const fromJson: unknown = JSON.parse('"Session.connectionCreated"');
const fromUser: string = String(fromJson);
const list: unknown[] = [fromJson];
const names: string[] = [fromUser];
stepRoom(s0, fromJson);
stepRoom(s0, fromUser);
stepRoom(s0, { type: fromUser });
walkRoom(list);
walkRoom(names);
walkRoom(names.map((type) => ({ type })));

const session = createRoomSession({ roomToken: 'r', serverUrl: 'http://127.0.0.1:9/v1', auth: { type: 'basic', sessionToken: 't' } });
session.send('Session.streamCreated');
session.send({ type: 'Session.streamCreated' });
session.send(fromJson);
session.send(fromUser);
// @ts-expect-error misspelt literal
session.send('Session.streamcreated');
// @ts-expect-error misspelt literal inside an event object
session.send({ type: 'Publisher.StreamDestroyed' });

// A session is still a sink for the OpenTok adapter.
declare const emitter: OpenTokEmitter;
attachOpenTok({ session: emitter }, session);
