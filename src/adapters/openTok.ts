// attachOpenTok: feeds a room session from OpenTok-style SDK objects (on/off emitters).
import type { RoomEventType } from '../../machines/domain';

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

// OpenTok's own event names on each emitter -> the spec's event names (section 1).
// `sessionDisconnected` is deliberately absent: a client's own disconnect is not reported.
const SESSION_EVENTS: Record<string, RoomEventType> = {
  connectionCreated: 'Session.connectionCreated',
  connectionDestroyed: 'Session.connectionDestroyed',
  streamCreated: 'Session.streamCreated',
  streamDestroyed: 'Session.streamDestroyed',
};
const PUBLISHER_EVENTS: Record<string, RoomEventType> = {
  streamCreated: 'Publisher.streamCreated',
  streamDestroyed: 'Publisher.streamDestroyed',
};

/** Subscribe to the SDK's events; returns a function that removes every listener it added. */
export function attachOpenTok(sources: OpenTokSources, sink: RoomEventSink): () => void {
  if (typeof sources !== 'object' || sources === null || !isEmitter(sources.session)) {
    throw new TypeError('attachOpenTok: sources.session must have on(type, fn) and off(type, fn)');
  }
  for (const name of ['publisher', 'screenPublisher'] as const) {
    if (sources[name] !== undefined && !isEmitter(sources[name])) throw new TypeError(`attachOpenTok: sources.${name} must have on(type, fn) and off(type, fn)`);
  }
  const added: Array<() => void> = [];
  const wire = (emitter: OpenTokEmitter, map: Record<string, RoomEventType>) => {
    for (const [sdkType, type] of Object.entries(map)) {
      // The SDK's event object is not forwarded: the machine counts by type only.
      const handler = () => sink.send({ type });
      emitter.on(sdkType, handler);
      added.push(() => emitter.off(sdkType, handler));
    }
  };
  wire(sources.session, SESSION_EVENTS);
  if (sources.publisher) wire(sources.publisher, PUBLISHER_EVENTS);
  if (sources.screenPublisher) wire(sources.screenPublisher, PUBLISHER_EVENTS);
  let detached = false;
  return () => {
    if (detached) return;
    detached = true;
    for (const remove of added.splice(0)) remove();
  };
}

function isEmitter(x: unknown): x is OpenTokEmitter {
  return typeof x === 'object' && x !== null && typeof (x as OpenTokEmitter).on === 'function' && typeof (x as OpenTokEmitter).off === 'function';
}
