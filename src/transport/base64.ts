// Base64 of bytes and of UTF-8 text with the web platform's own btoa (browsers, Node 16+); btoa
// takes one char per byte, so bytes are spelled out as such first.

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function utf8ToBase64(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text));
}
