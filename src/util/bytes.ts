/**
 * Small byte-array helpers.
 *
 * @module
 */

/**
 * Frees the memory under a byte array now, rather than at V8's next garbage collection:
 * the array's buffer is detached, and every view of it reads as empty from then on. Only
 * for a buffer that nothing else uses. V8 counts such memory, held outside its heap, only
 * loosely towards starting a collection, so buffers read and dropped one after another
 * gather by the tens of megabytes before one (in a remote-warm `go build std`, 20 MiB
 * more at the peak than when each body is freed once stored).
 *
 * @param bytes A view of a buffer that nothing else uses.
 */
export function freeBuffer(bytes: Uint8Array): void {
  if (bytes.buffer instanceof ArrayBuffer && !bytes.buffer.detached) bytes.buffer.transfer(0);
}

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
