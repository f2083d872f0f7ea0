// Request bodies, read with a size limit: a declared length over the limit is refused before a byte is
// read, and a body that grows past it while streaming is refused at once (the rest is never read).
import type { IncomingMessage } from 'node:http';
import { errors, type ApiError } from './errors';
import { ClientGoneError } from './respond';

export const MAX_BODY_BYTES = 8 * 1024;

/** Strict: a byte sequence that is not UTF-8 throws; a byte order mark is kept (JSON refuses it, as before). */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as UTF-8 text, or the 413 to answer; rejects (ClientGoneError) only when the client went away. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string | ApiError> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.resolve(errors.tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done();
        req.pause();
        resolve(errors.tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      try {
        resolve(UTF8.decode(Buffer.concat(chunks)));
      } catch {
        // Not replaced by U+FFFD and stored altered: refused.
        resolve(errors.badJson('Malformed request: the body is not UTF-8 text.'));
      }
    };
    // An aborted upload, a reset connection, a request timed out by the server: nobody is left to answer.
    const onError = () => {
      done();
      reject(new ClientGoneError());
    };
    const onAborted = onError;
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
