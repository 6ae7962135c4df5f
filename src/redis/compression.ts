/**
 * zstd for bodies stored in Redis (`--compress zstd`), through `node:zlib`, loaded when
 * first used. Compression is bounded both ways: only bodies within the compressed-size
 * limit are compressed, and decompression never yields more than the header claims, so
 * a small value that would expand to gigabytes stops at once.
 *
 * @module
 */

import { CorruptEntryError } from "../errors.ts";

/** Bodies smaller than this are stored uncompressed even with compression on. */
export const COMPRESS_MIN_BYTES = 1024;

/**
 * Compresses a body, if that makes it smaller.
 *
 * @param body The body.
 * @returns The compressed bytes, or `undefined` when they would not be smaller.
 */
export async function compressZstd(body: Uint8Array): Promise<Uint8Array | undefined> {
  const { zstdCompressSync } = await import("node:zlib");
  const compressed = zstdCompressSync(body);
  if (compressed.length >= body.length) return undefined;
  return new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.length);
}

/**
 * Decompresses a stored body, never beyond the size its header claims.
 *
 * @param stored The stored bytes.
 * @param size The body's size, as its header says.
 * @returns The body; its length may differ from `size` only if the value is corrupt.
 * @throws {CorruptEntryError} If the bytes cannot be decompressed within `size`.
 */
export async function decompressZstd(stored: Uint8Array, size: number): Promise<Uint8Array> {
  const { zstdDecompressSync } = await import("node:zlib");
  try {
    const body = zstdDecompressSync(stored, { maxOutputLength: size });
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  } catch (error) {
    throw new CorruptEntryError("its compressed body cannot be decompressed", { cause: error });
  }
}
