// The Hawk client header (scheme `Hawk`, header version 1) computed with WebCrypto, so the same code
// runs in a browser and in Node 20. Normalization as in the hawk library (lib/crypto.js):
//   payload hash = H("hawk.1.payload\n" + <content-type without parameters, lowercased> + "\n" + body + "\n")
//   mac = HMAC(key, "hawk.1.header\n" + ts + "\n" + nonce + "\n" + METHOD + "\n" + path?query + "\n"
//                   + host lowercased + "\n" + port + "\n" + hash + "\n" + ext + "\n")
import { bytesToBase64 } from './base64';

export interface HawkCredentials {
  id: string;
  key: string;
  algorithm: 'sha256' | 'sha1';
}

export interface HawkRequest {
  method: string;
  url: string;
  contentType: string;
  body: string;
}

const DIGEST = { sha256: 'SHA-256', sha1: 'SHA-1' } as const;
// Hawk's attribute grammar rejects quotes and backslashes; ids and nonces must fit it.
const ATTRIBUTE = /^[ \w!#$%&'()*+,\-./:;<=>?@[\]^`{|}~]+$/;

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new TypeError('Hawk needs WebCrypto (globalThis.crypto.subtle): a browser on a secure origin, or Node 20+');
  return s;
}

export function checkHawkCredentials(c: unknown): string | undefined {
  if (typeof c !== 'object' || c === null) return 'auth.credentials must be an object { id, key, algorithm }';
  const { id, key, algorithm } = c as Record<string, unknown>;
  if (typeof id !== 'string' || id === '' || !ATTRIBUTE.test(id)) return 'auth.credentials.id must be a non-empty string of Hawk attribute characters';
  if (typeof key !== 'string' || key === '') return 'auth.credentials.key must be a non-empty string';
  if (algorithm !== 'sha256' && algorithm !== 'sha1') return "auth.credentials.algorithm must be 'sha256' or 'sha1'";
  return undefined;
}

/** Beyond this difference from the server's clock, Hawk servers refuse the timestamp (their default window is 60 s). */
const CLOCK_SKEW_MS = 30_000;

/** Signs requests with one set of credentials; the HMAC key is imported once. */
export class HawkSigner {
  private readonly hmacKey: Promise<CryptoKey>;

  /**
   * @param offsetMs added to the local clock, as the hawk library's `localtimeOffsetMsec`; corrected
   *   by `adjustClock` when a server refuses a stale timestamp.
   */
  constructor(
    private readonly credentials: HawkCredentials,
    private offsetMs = 0,
    private readonly now: () => number = Date.now,
  ) {
    const hash = DIGEST[credentials.algorithm];
    // Imported lazily by the first request; a failure surfaces there, not here.
    this.hmacKey = Promise.resolve().then(() =>
      subtle().importKey('raw', new TextEncoder().encode(credentials.key), { name: 'HMAC', hash }, false, ['sign']),
    );
    this.hmacKey.catch(() => {});
  }

  /** The Authorization header value for one attempt (a fresh ts and nonce each time). */
  async header(request: HawkRequest): Promise<string> {
    const url = new URL(request.url);
    const ts = Math.floor((this.now() + this.offsetMs) / 1000);
    const nonce = randomNonce();
    const hash = await this.payloadHash(request.contentType, request.body);
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const normalized =
      `hawk.1.header\n${ts}\n${nonce}\n${request.method.toUpperCase()}\n${url.pathname}${url.search}\n` +
      `${url.hostname.toLowerCase()}\n${port}\n${hash}\n\n`;
    const mac = bytesToBase64(new Uint8Array(await subtle().sign('HMAC', await this.hmacKey, new TextEncoder().encode(normalized))));
    return `Hawk id="${this.credentials.id}", ts="${ts}", nonce="${nonce}", hash="${hash}", mac="${mac}"`;
  }

  /**
   * After a 401: if the server's Date header shows our clock is off by more than the Hawk window
   * allows, take the server's time (as Firefox's Hawk client does) and say a retry is worth it.
   */
  adjustClock(serverDate: string | null | undefined): boolean {
    const server = serverDate ? Date.parse(serverDate) : NaN;
    if (Number.isNaN(server)) return false;
    const ours = this.now() + this.offsetMs;
    if (Math.abs(server - ours) <= CLOCK_SKEW_MS) return false;
    this.offsetMs = server - this.now();
    return true;
  }

  private async payloadHash(contentType: string, body: string): Promise<string> {
    const type = contentType.split(';')[0].trim().toLowerCase();
    const text = `hawk.1.payload\n${type}\n${body}\n`;
    const digest = await subtle().digest(DIGEST[this.credentials.algorithm], new TextEncoder().encode(text));
    return bytesToBase64(new Uint8Array(digest));
  }
}

function randomNonce(): string {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  // base64url: letters, digits, '-' and '_', all allowed in a Hawk attribute.
  return bytesToBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_');
}
