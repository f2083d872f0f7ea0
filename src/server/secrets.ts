// The server keeps HMACs of tokens and ids, never the values (server spec section 1, Secrets).
import { createHmac, randomBytes, timingSafeEqual, createHash } from 'node:crypto';

export class Hmacs {
  constructor(private readonly secret: string) {}

  /** HMAC of a Basic sessionToken. */
  token(sessionToken: string): string {
    return this.mac('session-token', sessionToken);
  }

  /** HMAC of a Hawk id. */
  hawkId(id: string): string {
    return this.mac('hawk-id', id);
  }

  /**
   * A room's id: a stable HMAC of its token (128 bits, hex), shown wherever a room is named outside its API
   * (export, admin views, the traffic replay): the token itself lets anyone join the room.
   */
  roomId(roomToken: string): string {
    return this.mac('room-id', roomToken).slice(0, 32);
  }

  private mac(domain: string, value: string): string {
    return createHmac('sha256', this.secret).update(`${domain}\0${value}`).digest('hex');
  }
}

export const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Constant-time string equality (through hashes, so lengths do not leak either). */
export function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}
