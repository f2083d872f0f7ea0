// Who may see admin data (server spec section 7): the client's address (the socket's, or a trusted proxy's
// X-Forwarded-For), whether it is this machine, and whether a request names one of the server's own hosts in Host
// (a page on another site that rebinds its DNS name to 127.0.0.1 still sends its own name: refused).
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** True for an address of this machine's loopback interface (IPv4 127/8, IPv6 ::1, IPv4-mapped 127/8). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

/** A wildcard bind (every interface): it names no host of its own. */
export const isWildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '[::]';

/** The host name of a Host header (lowercased, IPv6 without brackets), without its port; undefined when malformed. */
export function hostNameOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]\s]+)(?::\d{1,5})?$/i.exec(header.trim());
  if (!m) return undefined;
  return m[1].toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

export class HostPolicy {
  private readonly names: Set<string>;
  private readonly publicOrigin: string | undefined;

  /** `bound`: the address listened on; `publicUrl`: the origin clients use through a proxy (its host is ours too). */
  constructor(bound: string, publicUrl?: string) {
    this.names = new Set(LOOPBACK_NAMES);
    const b = bound.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    if (!isWildcard(bound)) this.names.add(b);
    if (publicUrl) this.names.add(new URL(publicUrl).hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1'));
    this.publicOrigin = publicUrl === undefined ? undefined : new URL(publicUrl).origin;
  }

  /** The request names one of the server's own hosts (a loopback name, the bound address, the public URL's host). */
  ownHost(req: IncomingMessage): boolean {
    const name = hostNameOf(req.headers.host);
    return name !== undefined && (this.names.has(name) || isLoopbackAddress(name));
  }

  /** Origins of the server's own pages at this port: http(s)://<own host>[:port]. */
  ownOrigin(origin: string, port: number): boolean {
    try {
      const u = new URL(origin);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
      const name = u.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
      if (!this.names.has(name) && !isLoopbackAddress(name)) return false;
      // The public URL's origin has the proxy's port (or none); the others must be this server's port.
      const p = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
      return p === port || this.publicOrigin === u.origin;
    } catch {
      return false;
    }
  }

}

/**
 * The client's address: the socket's, or, when the socket is a trusted proxy, the last X-Forwarded-For entry that
 * is not itself a trusted proxy (the one the nearest trusted proxy saw).
 */
export function clientAddress(req: IncomingMessage, trustedProxies: ReadonlySet<string>): string {
  const socket = normalize(req.socket.remoteAddress ?? '');
  if (!trustedProxies.has(socket)) return socket;
  const header = req.headers['x-forwarded-for'];
  const list = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((s) => normalize(s.trim())).filter(Boolean);
  for (let i = list.length - 1; i >= 0; i--) if (!trustedProxies.has(list[i])) return list[i];
  return socket;
}

/** IPv4-mapped IPv6 addresses as IPv4, lowercased (so one client is one key). */
export const normalize = (address: string) => address.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '');
