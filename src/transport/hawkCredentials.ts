// Hawk credentials and their check, apart from the signer: option checks need them at start, while the
// signer (and its hashing) is loaded only by Hawk sessions.

/** Hawk credentials: id, key, and the MAC algorithm (Loop uses sha256). */
export interface HawkCredentials {
  id: string;
  key: string;
  algorithm: 'sha256' | 'sha1';
}

// Hawk's attribute grammar rejects quotes and backslashes; ids and nonces must fit it.
const ATTRIBUTE = /^[ \w!#$%&'()*+,\-./:;<=>?@[\]^`{|}~]+$/;

export function checkHawkCredentials(c: unknown): string | undefined {
  if (typeof c !== 'object' || c === null) return 'auth.credentials must be an object { id, key, algorithm }';
  const { id, key, algorithm } = c as Record<string, unknown>;
  if (typeof id !== 'string' || id === '' || !ATTRIBUTE.test(id)) return 'auth.credentials.id must be a non-empty string of Hawk attribute characters';
  if (typeof key !== 'string' || key === '') return 'auth.credentials.key must be a non-empty string';
  if (algorithm !== 'sha256' && algorithm !== 'sha1') return "auth.credentials.algorithm must be 'sha256' or 'sha1'";
  return undefined;
}
