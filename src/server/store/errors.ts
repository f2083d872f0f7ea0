// The errors a store rejects with on purpose: it cannot serve, or a unit's Hawk nonce was claimed before.

/** Thrown (rejected) by a store that cannot serve; the server answers 503 errno 201 with Retry-After. */
export class StoreUnavailableError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/** A unit of work carried a Hawk nonce claimed before (a replay, whoever saw it first): nothing was written. */
export class NonceReplayedError extends Error {
  constructor() {
    super('the Hawk nonce was claimed before');
    this.name = 'NonceReplayedError';
  }
}
