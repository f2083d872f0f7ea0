// attachOpenTok: feeds a room session from OpenTok-style SDK objects (on/off emitters).
import { ROOM_EVENTS, type RoomEventType } from '../../machines/domain';
import { fieldsProblem, type FieldCheck } from '../check';

/** The part of an OpenTok Session / Publisher this adapter uses. */
export interface OpenTokEmitter {
  on(type: string, handler: (event: unknown) => void): unknown;
  off(type: string, handler: (event: unknown) => void): unknown;
}

/** The OpenTok objects attachOpenTok listens to. */
export interface OpenTokSources {
  session: OpenTokEmitter;
  /** The camera publisher. */
  publisher?: OpenTokEmitter;
  /** A screen-share publisher: its streams count as sendStreams too. */
  screenPublisher?: OpenTokEmitter;
}

/** Anything with send({type}): a RoomSession, or a bare actor. */
export interface RoomEventSink {
  send(event: { type: RoomEventType }): void;
}

const MUST = 'must have on(type, fn) and off(type, fn)';
const isEmitter = (x: unknown) => typeof (x as OpenTokEmitter)?.on === 'function' && typeof (x as OpenTokEmitter).off === 'function';
const SOURCES: Readonly<Record<keyof OpenTokSources, FieldCheck>> = { session: [isEmitter, MUST, true], publisher: [isEmitter, MUST], screenPublisher: [isEmitter, MUST] };

/**
 * Subscribe to the SDK's events; returns a function that removes every listener it added. OpenTok's own names
 * are the spec's without the emitter: `Session.streamCreated` is the session's `streamCreated`, and
 * `Publisher.*` each publisher's. `sessionDisconnected` is deliberately not listened to: a client's own
 * disconnect is not reported.
 */
export function attachOpenTok(sources: OpenTokSources, sink: RoomEventSink): () => void {
  const problem = fieldsProblem(sources, SOURCES, 'sources', true);
  if (problem) throw new TypeError(`attachOpenTok: ${problem}`);
  const added: Array<() => void> = [];
  for (const name of ['session', 'publisher', 'screenPublisher'] as const) {
    const emitter = sources[name];
    for (const type of ROOM_EVENTS) {
      const [owner, sdkType] = type.split('.');
      if (!emitter || (owner === 'Session') !== (name === 'session')) continue;
      // The SDK's event object is not forwarded: the machine counts by type only.
      const handler = () => sink.send({ type });
      emitter.on(sdkType, handler);
      added.push(() => emitter.off(sdkType, handler));
    }
  }
  let detached = false;
  return () => {
    if (detached) return;
    detached = true;
    for (const remove of added.splice(0)) remove();
  };
}
