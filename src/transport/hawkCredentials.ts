// Hawk credentials and their check, apart from the signer: option checks need them at start, while the
// signer (and its hashing) is loaded only by Hawk sessions.
import { fieldsProblem, isNonEmptyString } from '../check';

/** Hawk credentials: id, key, and the MAC algorithm (Loop uses sha256). */
export interface HawkCredentials {
  id: string;
  key: string;
  algorithm: 'sha256' | 'sha1';
}

// Hawk's attribute grammar rejects quotes and backslashes; ids and nonces must fit it.
const ATTRIBUTE = /^[ \w!#$%&'()*+,\-./:;<=>?@[\]^`{|}~]+$/;

/** Why `c` is not usable Hawk credentials (a message naming the field), or undefined. Other fields (the hawk library's `user`) may come along. */
export function checkHawkCredentials(c: unknown): string | undefined {
  return fieldsProblem(
    c,
    {
      id: [(v) => typeof v === 'string' && ATTRIBUTE.test(v), 'must be a non-empty string of Hawk attribute characters', true],
      key: [isNonEmptyString, 'must be a non-empty string', true],
      algorithm: [(v) => v === 'sha256' || v === 'sha1', "must be 'sha256' or 'sha1'", true],
    },
    'auth.credentials',
    true,
  );
}
