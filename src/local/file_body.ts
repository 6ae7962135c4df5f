/**
 * A stored output read a piece at a time, for uploads: a piece is read when the remote
 * store asks for it, on Deno's thread pool, so that an upload holds at most a few pieces
 * in memory and never stalls the event loop copying a whole big body.
 *
 * @module
 */

import type { OutputBody } from "../store.ts";

/**
 * Opens a file to read it in pieces.
 *
 * @param path The file.
 * @param size Its size, as the entry records it.
 * @returns The reader, or `undefined` when the file is gone or not of that size (a
 * `go clean -cache`, a trim): there is nothing to upload.
 */
export async function openFileBody(path: string, size: number): Promise<OutputBody | undefined> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch {
    return undefined;
  }
  if ((await file.stat()).size !== size) {
    file.close();
    return undefined;
  }
  // One handle, so reads are made one after the other: each seeks where it starts.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    size,
    read(offset: number, length: number): Promise<Uint8Array> {
      const read = queue.then(async () => {
        const piece = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
        await file.seek(offset, Deno.SeekMode.Start);
        let have = 0;
        while (have < piece.length) {
          const count = await file.read(piece.subarray(have));
          if (count === null) throw new Error(`${path} ended before its recorded size`);
          have += count;
        }
        return piece;
      });
      queue = read.catch(() => {});
      return read;
    },
    [Symbol.dispose]() {
      file.close();
    },
  };
}
