// A unit of work's Hawk nonce claim (UpdateOptions.nonce, D-141), as the SQLite stores carry it.
import type { UnitNonce } from '../contract';

/**
 * Runs `call` with the unit's nonce claim unless an earlier call committed it, and marks it claimed once `call`
 * resolves (its commit holds the claim). A threaded store's stale round commits the claim too, so its next round
 * must not claim it again; a call that rejects committed nothing.
 */
export async function claiming<R>(nonce: UnitNonce | undefined, call: (nonce: UnitNonce | undefined) => Promise<R>): Promise<R> {
  const pending = nonce?.claimed ? undefined : nonce;
  const result = await call(pending);
  if (pending) pending.claimed = true;
  return result;
}
