// The Hawk client header (scheme `Hawk`, header version 1), the same code in a browser and in Node.
// Normalization as in the hawk library (lib/crypto.js):
//   payload hash = H("hawk.1.payload\n" + <content-type without parameters, lowercased> + "\n" + body + "\n")
//   mac = HMAC(key, "hawk.1.header\n" + ts + "\n" + nonce + "\n" + METHOD + "\n" + path?query + "\n"
//                   + host lowercased + "\n" + port + "\n" + hash + "\n" + ext + "\n")
// Hashing is @noble/hashes (audited, synchronous): WebCrypto is asynchronous (two thread-pool round trips
// per header in Node, more than the request around them), absent on insecure origins, and the page-hide
// leave must be signed synchronously.
import { hmac } from '@noble/hashes/hmac';
import { sha1 } from '@noble/hashes/legacy';
import { sha256 } from '@noble/hashes/sha2';
import type { HawkCredentials } from './hawkCredentials';

export interface HawkRequest {
  method: string;
  url: string;
  contentType: string;
  body: string;
}

const HASHES = { sha256, sha1 };
let encoder: TextEncoder | undefined;
const utf8 = (text: string) => (encoder ??= new TextEncoder()).encode(text);
// Not ./base64: a module the Basic path shares would put this file in the chunk every page loads at start.
const bytesToBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** Beyond this difference from the server's clock, Hawk servers refuse the timestamp (their default window is 60 s). */
const CLOCK_SKEW_MS = 30_000;

/** Signs requests with one set of credentials; the key's HMAC blocks are computed once. */
export class HawkSigner {
  private readonly hash: (typeof HASHES)[keyof typeof HASHES];
  /** HMAC with the key absorbed (inner and outer blocks); each header works on a clone of it. */
  private readonly keyed: ReturnType<typeof hmac.create>;
  /** The last URL's normalized parts: a session signs for one URL. */
  private target: [url: string, resource: string, host: string, port: string] | undefined;

  /**
   * @param offsetMs added to the local clock, as the hawk library's `localtimeOffsetMsec`; corrected
   *   by `adjustClock` when a server refuses a stale timestamp.
   */
  constructor(
    private readonly credentials: HawkCredentials,
    private offsetMs = 0,
    private readonly now: () => number = Date.now,
  ) {
    this.hash = HASHES[credentials.algorithm];
    this.keyed = hmac.create(this.hash, utf8(credentials.key));
  }

  /** The Authorization header value for one attempt (a fresh ts and nonce each time). */
  async header(request: HawkRequest): Promise<string> {
    return this.headerNow(request);
  }

  /** The same, synchronously (the page-hide leave cannot wait). */
  headerNow(request: HawkRequest): string {
    if (this.target?.[0] !== request.url) {
      const url = new URL(request.url);
      this.target = [request.url, url.pathname + url.search, url.hostname.toLowerCase(), url.port || (url.protocol === 'https:' ? '443' : '80')];
    }
    const [, resource, host, port] = this.target;
    const ts = Math.floor((this.now() + this.offsetMs) / 1000);
    const nonce = randomNonce();
    const type = request.contentType.split(';')[0].trim().toLowerCase();
    const hash = bytesToBase64(this.hash(utf8(`hawk.1.payload\n${type}\n${request.body}\n`)));
    const mac = bytesToBase64(this.keyed.clone().update(utf8(`hawk.1.header\n${ts}\n${nonce}\n${request.method.toUpperCase()}\n${resource}\n${host}\n${port}\n${hash}\n\n`)).digest());
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
}

// Random bytes for nonces, drawn 64 nonces at a time: one getRandomValues call costs more than a header.
let pool: Uint8Array | undefined;
let used = 0;

function randomNonce(): string {
  if (!pool || used === pool.length) {
    pool = globalThis.crypto.getRandomValues(new Uint8Array(9 * 64));
    used = 0;
  }
  // base64url: letters, digits, '-' and '_', all allowed in a Hawk attribute.
  return bytesToBase64(pool!.subarray(used, (used += 9))).replace(/\+/g, '-').replace(/\//g, '_');
}
