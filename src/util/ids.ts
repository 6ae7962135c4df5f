/**
 * Conversions between the wire form of ActionIDs and OutputIDs (standard base64 of 32
 * bytes) and the lowercase hex this program uses in file names and keys.
 *
 * @module
 */

/** Length in bytes of an ActionID or OutputID: a SHA-256 digest. */
export const ID_BYTES = 32;

const HEX_ID = /^[0-9a-f]{64}$/;

/**
 * Decodes a 32-byte ID from its wire form.
 *
 * @param base64 Standard, padded base64 as the go command writes it.
 * @returns The ID in lowercase hex, or `undefined` when it is not exactly 32 bytes of
 * valid base64.
 */
export function base64IdToHex(base64: string): string | undefined {
  if (base64.length !== 44) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromBase64(base64, { lastChunkHandling: "strict" });
  } catch {
    return undefined;
  }
  return bytes.length === ID_BYTES ? bytes.toHex() : undefined;
}

/**
 * Encodes a hex ID in the wire form.
 *
 * @param hex 64 lowercase hex digits.
 * @returns Standard, padded base64.
 */
export function hexIdToBase64(hex: string): string {
  return Uint8Array.fromHex(hex).toBase64();
}

/**
 * Tells whether a string is a well-formed hex ID. Checked before an ID becomes part of
 * a path or a key, so that no input can name a file outside the store.
 *
 * @param hex The candidate.
 * @returns `true` for exactly 64 lowercase hex digits.
 */
export function isHexId(hex: string): boolean {
  return HEX_ID.test(hex);
}
