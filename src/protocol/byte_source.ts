/**
 * Where the protocol engine reads its input from. `Deno.stdin` is one as it is; a
 * stream adapter serves tests and embedders.
 *
 * @module
 */

/** A source of bytes with Deno's reader shape. */
export interface ByteSource {
  /**
   * Reads into `buffer`.
   *
   * @returns How many bytes were read, or `null` at the end of the input.
   */
  read(buffer: Uint8Array): Promise<number | null>;
  /**
   * Reads into `buffer`, blocking the thread until data arrives. Optional: the engine
   * uses it only when nothing else is waiting on the event loop, because a blocking
   * read costs a third of an asynchronous one.
   *
   * @returns How many bytes were read, or `null` at the end of the input.
   */
  readSync?(buffer: Uint8Array): number | null;
}

/**
 * Adapts a stream of byte chunks to a {@linkcode ByteSource}.
 *
 * @param stream The stream; the adapter takes its lock.
 * @returns A source that reads from it, without `readSync`.
 */
export function byteSourceFromStream(stream: ReadableStream<Uint8Array>): ByteSource {
  const reader = stream.getReader();
  let pending: Uint8Array = new Uint8Array(0);
  return {
    async read(buffer: Uint8Array): Promise<number | null> {
      while (pending.length === 0) {
        const { value, done } = await reader.read();
        if (done) return null;
        pending = value;
      }
      const count = Math.min(buffer.length, pending.length);
      buffer.set(pending.subarray(0, count));
      pending = pending.subarray(count);
      return count;
    },
  };
}
