// The Hawk header, checked by the hawk library's own server-side verifier.
import fc from 'fast-check';
import { HawkSigner, type HawkCredentials } from '../../src/transport/hawk';
import { basicAuthorization } from '../../src/transport/basic';
import { bytesToBase64 } from '../../src/transport/base64';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Hawk = require('hawk');

const credentials: HawkCredentials = { id: 'dh37fgj492je', key: 'werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn', algorithm: 'sha256' };
const body = '{"action":"status","event":"Session.streamCreated","state":"sendrecv","connections":2,"sendStreams":1,"recvStreams":1}';
const contentType = 'application/json; charset=utf-8';

async function verify(header: string, over: { url?: string; host?: string; port?: number; payload?: string; creds?: HawkCredentials } = {}) {
  const request = { method: 'POST', url: over.url ?? '/v1/rooms/QzBbvGmIZWU', host: over.host ?? 'example.com', port: over.port ?? 8080, authorization: header, contentType };
  const creds = over.creds ?? credentials;
  return Hawk.server.authenticate(request, (id: string) => (id === creds.id ? creds : null), { payload: over.payload ?? body });
}

describe('HawkSigner', () => {
  const signer = new HawkSigner(credentials);
  const sign = (url = 'http://example.com:8080/v1/rooms/QzBbvGmIZWU') => signer.header({ method: 'post', url, contentType, body });

  it('is accepted by hawk.server.authenticate, payload included', async () => {
    const { artifacts } = await verify(await sign());
    expect(artifacts.id).toBe(credentials.id);
    expect(artifacts.hash).toBe(Hawk.crypto.calculatePayloadHash(body, 'sha256', contentType));
  });

  it('is rejected when the body differs (the payload hash covers it)', async () => {
    await expect(verify(await sign(), { payload: body.replace('"connections":2', '"connections":3') })).rejects.toThrow('Bad payload hash');
  });

  it('is rejected for another path, host or port (they are in the MAC)', async () => {
    const header = await sign();
    await expect(verify(header, { url: '/v1/rooms/other' })).rejects.toThrow('Bad mac');
    await expect(verify(header, { host: 'example.org' })).rejects.toThrow('Bad mac');
    await expect(verify(header, { port: 8081 })).rejects.toThrow('Bad mac');
  });

  it('is rejected with the wrong key', async () => {
    await expect(verify(await sign(), { creds: { ...credentials, key: 'another key' } })).rejects.toThrow('Bad mac');
  });

  it('uses the scheme default port when the URL has none, and keeps the query in the resource', async () => {
    await verify(await sign('https://Example.COM/v1/rooms/QzBbvGmIZWU'), { port: 443 });
    await verify(await sign('http://example.com/v1/rooms/QzBbvGmIZWU?x=1'), { port: 80, url: '/v1/rooms/QzBbvGmIZWU?x=1' });
  });

  it('supports sha1 credentials', async () => {
    const sha1 = { ...credentials, algorithm: 'sha1' as const };
    const header = await new HawkSigner(sha1).header({ method: 'POST', url: 'http://example.com:8080/v1/rooms/QzBbvGmIZWU', contentType, body });
    await verify(header, { creds: sha1 });
  });

  it('gives every attempt a fresh nonce', async () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 20; i++) nonces.add(/nonce="([^"]+)"/.exec(await sign())![1]);
    expect(nonces.size).toBe(20);
  });
});

it('Basic is base64(sessionToken + ":"), UTF-8 included', () => {
  expect(basicAuthorization('abc')).toBe('Basic ' + Buffer.from('abc:').toString('base64'));
  expect(basicAuthorization('jeton-é✓')).toBe('Basic ' + Buffer.from('jeton-é✓:', 'utf8').toString('base64'));
});

it('base64 matches Node for every length remainder and every byte value', () => {
  for (let len = 0; len < 70; len++) {
    const bytes = Uint8Array.from({ length: len }, (_, i) => (i * 97 + len * 31) & 255);
    expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
  }
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  expect(bytesToBase64(all)).toBe(Buffer.from(all).toString('base64'));
});

describe('our use of @noble/hashes: one keyed HMAC state per signer, UTF-8 text', () => {
  // One signer signs many headers from the same keyed state: if a header disturbed that state, a later
  // one would fail. Keys of any length (a key longer than the hash block is hashed first) and bodies in
  // any Unicode must verify with the hawk library's server, for both algorithms.
  const key = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 });
  const text = fc.string({ unit: 'grapheme', maxLength: 300 });
  it.each(['sha256', 'sha1'] as const)('%s: many headers from one signer verify, whatever the key and body', async (algorithm) => {
    await fc.assert(
      fc.asyncProperty(key, fc.array(text, { minLength: 1, maxLength: 4 }), async (k, payloads) => {
        const creds = { ...credentials, key: k, algorithm };
        const signer = new HawkSigner(creds);
        for (const payload of payloads) {
          const header = signer.headerNow({ method: 'POST', url: 'http://example.com:8080/v1/rooms/QzBbvGmIZWU', contentType, body: payload });
          await verify(header, { creds, payload });
        }
      }),
      { numRuns: 100 },
    );
  });
});

it('headerNow (used when the page goes away) is verified like header', async () => {
  const signer = new HawkSigner(credentials);
  const { artifacts } = await verify(signer.headerNow({ method: 'POST', url: 'http://example.com:8080/v1/rooms/QzBbvGmIZWU', contentType, body }));
  expect(artifacts.id).toBe(credentials.id);
});
