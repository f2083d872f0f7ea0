// Hawk sessions (server spec section 1, as loop-server): POST /registration gives a 32-byte session token;
// client and server derive the Hawk credentials from it with HKDF-SHA256. WebCrypto only (browser-safe).
import type { HawkCredentials } from '../transport/hawk';
import type { RoomsClientOptions } from './errors';
import { checkOptions, roomsRequest } from './request';
import type { RoomsShared } from '.';

/** The HKDF `info` string Loop derives Hawk credentials with. */
export const HAWK_SESSION_INFO = 'identity.mozilla.com/picl/v1/sessionToken';

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new TypeError('deriveHawkCredentials needs WebCrypto (globalThis.crypto.subtle): a browser on a secure origin, or Node 20+');
  return s;
}

const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Hawk credentials from a hex session token: HKDF-SHA256, empty salt, 64 bytes; id = bytes 0-31, key = bytes 32-63 (hex). */
export async function deriveHawkCredentials(sessionTokenHex: string): Promise<HawkCredentials> {
  if (typeof sessionTokenHex !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(sessionTokenHex)) {
    throw new TypeError('deriveHawkCredentials: the session token must be a non-empty hex string');
  }
  const ikm = new Uint8Array(sessionTokenHex.match(/../g)!.map((h) => parseInt(h, 16)));
  const key = await subtle().importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  const bits = await subtle().deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new TextEncoder().encode(HAWK_SESSION_INFO) }, key, 512);
  const out = new Uint8Array(bits);
  return { id: toHex(out.subarray(0, 32)), key: toHex(out.subarray(32, 64)), algorithm: 'sha256' };
}

/** A Hawk session: its token and the credentials derived from it. */
export interface HawkSession {
  /** Hex; keep it secret: the credentials are derived from it. */
  sessionToken: string;
  credentials: HawkCredentials;
}

/**
 * POST /registration without credentials: a new Hawk session and its credentials. Rejects with a
 * RoomsApiError, a RoomsNetworkError, or the signal's reason when `options.signal` aborts it.
 */
export async function registerHawkSession(serverUrl: string, options: RoomsClientOptions = {}, shared: RoomsShared): Promise<HawkSession> {
  checkOptions('registerHawkSession', options, {}, shared);
  const res = await roomsRequest({ ...options, serverUrl, method: 'POST', path: '/registration', expect: [200] }, shared);
  const sessionToken = res.headers.get('Hawk-Session-Token');
  if (!sessionToken || !/^[0-9a-f]{64}$/i.test(sessionToken)) throw new TypeError('registerHawkSession: the server answered without a valid Hawk-Session-Token header');
  return { sessionToken, credentials: await deriveHawkCredentials(sessionToken) };
}
