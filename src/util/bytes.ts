/**
 * Small byte-array helpers.
 *
 * @module
 */

/**
 * Joins byte arrays into one, without copying when there is only one.
 *
 * @param parts The arrays, in order.
 * @param length Their total length.
 * @returns The joined bytes.
 */
export function concatBytes(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
