/**
 * The go command's `cache.Subkey` (`cmd/go/internal/cache/hash.go`):
 * `SHA-256("subkey:" ‖ parent ‖ desc)`. After every compile hit the go command asks for
 * `Subkey(actionID, "stdout")`, the compiler's output for that action, so a remote
 * store can fetch that companion together with the compile, in the same round trip.
 *
 * @module
 */

import type { Sha256Factory } from "../util/sha256.ts";

const PREFIX = new TextEncoder().encode("subkey:");

/**
 * Computes a subkey.
 *
 * @param sha256 The hash implementation.
 * @param parent The parent ActionID in hex.
 * @param desc The description, such as `stdout`.
 * @returns The subkey ActionID in hex.
 */
export function subkey(sha256: Sha256Factory, parent: string, desc: string): string {
  const hash = sha256();
  hash.update(PREFIX);
  hash.update(Uint8Array.fromHex(parent));
  hash.update(new TextEncoder().encode(desc));
  return hash.digestHex();
}
