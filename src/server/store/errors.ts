// The one error a store rejects with when it cannot serve (as opposed to a programming error).

/** Thrown (rejected) by a store that cannot serve; the server answers 503 errno 201 with Retry-After. */
export class StoreUnavailableError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}
