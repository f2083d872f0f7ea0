// Shared by the server suites: a real room server on 127.0.0.1 (port 0) over a fresh store, and raw requests.
import { request as httpRequest, type Agent } from 'node:http';
import { listenRoomServer, type ListeningRoomServer, type RoomServerOptions } from '../../src/server/server';
import type { FreshStore, StoreFactory } from '../support/stores';
import { HawkSigner, type HawkCredentials } from '../../src/transport/hawk';
import { basicAuthorization } from '../../src/transport/basic';

export interface TestServer extends ListeningRoomServer {
  fresh: FreshStore;
  logs: string[];
  stop(): Promise<void>;
}

export async function startServer(factory: StoreFactory, options: Partial<RoomServerOptions> & { requestTimeoutMs?: number } = {}): Promise<TestServer> {
  const fresh = await factory();
  const logs: string[] = [];
  const s = await listenRoomServer({ store: fresh.store, log: (l) => logs.push(l), ...options });
  return {
    ...s,
    fresh,
    logs,
    stop: async () => {
      await s.close();
      await fresh.cleanup();
    },
  };
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: () => any;
}

export async function raw(url: string, init: RequestInit = {}): Promise<RawAnswer> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

export const JSON_TYPE = 'application/json; charset=utf-8';

/** A POST with a JSON body (or raw string) and optional auth. */
export async function post(url: string, body: unknown, auth?: { hawk: HawkCredentials } | { basic: string } | { header: string }): Promise<RawAnswer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'Content-Type': JSON_TYPE };
  if (auth && 'hawk' in auth) headers.Authorization = await new HawkSigner(auth.hawk).header({ method: 'POST', url, contentType: JSON_TYPE, body: text });
  if (auth && 'basic' in auth) headers.Authorization = basicAuthorization(auth.basic);
  if (auth && 'header' in auth) headers.Authorization = auth.header;
  return raw(url, { method: 'POST', headers, body: text });
}

export async function hawkGet(url: string, credentials: HawkCredentials, method = 'GET'): Promise<RawAnswer> {
  return raw(url, { method, headers: { Authorization: await new HawkSigner(credentials).header({ method, url, contentType: '', body: '' }) } });
}

/** The body shape every error answer has. */
export function expectError(a: RawAnswer, status: number, errno: number, error?: string | RegExp): void {
  expect({ status: a.status, errno: a.json().errno, code: a.json().code }).toEqual({ status, errno, code: status });
  expect(typeof a.json().error).toBe('string');
  if (error !== undefined) expect(a.json().error).toMatch(error);
}

/** How many reports the server's store holds. */
export async function countReports(server: { fresh: FreshStore }): Promise<number> {
  let n = 0;
  for await (const _ of server.fresh.store.exportReports({})) n++;
  return n;
}

/** A POST over node:http (keep-alive through `agent`); rejects when the connection fails. */
export function httpPost(agent: Agent | undefined, url: string, headers: Record<string, string>, body: string, method = 'POST'): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
