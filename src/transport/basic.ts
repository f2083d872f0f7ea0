import { utf8ToBase64 } from './base64';

/** Spec section 1, standalone client: HTTP Basic, user = the room's sessionToken, empty password. */
export function basicAuthorization(sessionToken: string): string {
  return `Basic ${utf8ToBase64(`${sessionToken}:`)}`;
}
