// This package's own client (createRoomSession) behind the driver protocol: what `conform --self` runs.
// It speaks the same lines as any adapter, over streams in this process instead of a child's stdio.
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { createRoomSession, type RoomSession } from '../service/roomSession';
import type { RoomAuth } from '../service/options';
import { DRIVER_PROTOCOL, type AdapterLink } from './driver';

declare const __PACKAGE_VERSION__: string | undefined;

/** Serve the driver protocol on `input`/`output` with a fresh createRoomSession per `start`. */
export function serveSelfAdapter(input: Readable, output: Writable): Promise<void> {
  let session: RoomSession | undefined;
  const reply = (id: unknown, fields: Record<string, unknown>) => output.write(`${JSON.stringify({ id, ...fields })}\n`);
  const handle = async (m: Record<string, unknown>): Promise<Record<string, unknown>> => {
    switch (m.type) {
      case 'hello':
        if (m.protocol !== DRIVER_PROTOCOL) return { ok: false, error: `driver protocol ${String(m.protocol)} is not spoken here (only ${DRIVER_PROTOCOL})` };
        return { ok: true, name: `loop-room-state ${typeof __PACKAGE_VERSION__ === 'string' ? __PACKAGE_VERSION__ : 'dev'}`, auth: ['basic', 'hawk'], observes: ['state', 'counters'] };
      case 'start':
        session?.stop();
        session = createRoomSession({ roomToken: m.roomToken as string, serverUrl: m.serverUrl as string, auth: m.auth as RoomAuth });
        return { ok: true };
      case 'event': {
        if (!session) return { ok: false, error: 'no session: start first' };
        session.send(m.event as string);
        const s = session.getSnapshot();
        return { ok: true, state: s.value, connections: s.context.connections, sendStreams: s.context.sendStreams, recvStreams: s.context.recvStreams };
      }
      case 'leave':
        if (!session) return { ok: false, error: 'no session: start first' };
        await session.leave();
        return { ok: true };
      case 'stop':
        session?.stop();
        session = undefined;
        return { ok: true };
      default:
        return { ok: false, error: `unknown message type ${JSON.stringify(m.type)}` };
    }
  };
  return new Promise((resolve) => {
    // Messages are handled one at a time, in order, as a child process reading its stdin would.
    let chain = Promise.resolve();
    createInterface({ input, crlfDelay: Infinity })
      .on('line', (line) => {
        chain = chain.then(async () => {
          let m: Record<string, unknown>;
          try {
            m = JSON.parse(line) as Record<string, unknown>;
          } catch {
            return;
          }
          try {
            reply(m.id, await handle(m));
          } catch (err) {
            reply(m.id, { ok: false, error: err instanceof Error ? err.message : String(err) });
          }
        });
      })
      .on('close', () => {
        void chain.then(() => {
          session?.stop();
          resolve();
        });
      });
  });
}

/** A link to the package's own adapter, in this process. */
export function selfAdapterLink(): AdapterLink {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let done!: (how: string) => void;
  const exited = new Promise<string>((r) => (done = r));
  void serveSelfAdapter(stdin, stdout).then(() => done('ended'));
  return { stdin, stdout, describe: 'loop-room-state (--self)', kill: () => stdin.end(), exited };
}
