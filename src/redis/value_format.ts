/**
 * How entries are laid out in Redis. One key per action holds a fixed header and the
 * start of the body, so a hit costs one round trip; a body longer than one chunk
 * continues in chunk keys, fetched in parallel. All of an action's keys share a hash
 * tag (`{<ActionID>}`), so they live on one Cluster node and can be written together.
 *
 * Keys, under the namespace `gocacheprog:<prefix>:`:
 *
 * - `<namespace>{<ActionID hex>}`: header + the first chunk;
 * - `<namespace>{<ActionID hex>}:<first 16 hex of OutputID>:<n>`: chunk n (1, 2, ...).
 *   Naming chunks after the OutputID keeps two different outputs of one action apart.
 * - `<namespace>{<ActionID hex>}:lease`: while a runner compiles the action, its owner's
 *   identity, with a lifetime of a few seconds that the owner renews (`redis_leases.ts`).
 *
 * Header (72 bytes, integers little-endian):
 *
 * | offset | size | field                                          |
 * | ------ | ---- | ---------------------------------------------- |
 * | 0      | 4    | magic `GCPR`                                   |
 * | 4      | 1    | format version, 1                              |
 * | 5      | 1    | encoding: 0 none, 1 zstd                       |
 * | 6      | 2    | compute time in centiseconds, 0 if unknown     |
 * | 8      | 32   | OutputID                                       |
 * | 40     | 8    | body size (decoded)                            |
 * | 48     | 8    | put time, Unix nanoseconds                     |
 * | 56     | 8    | stored size (encoded)                          |
 * | 64     | 4    | chunk count, at least 1                        |
 * | 68     | 4    | chunk size: stored bytes per chunk             |
 *
 * @module
 */

import { type EntryDescription, MAX_REMOTE_ENTRY_BYTES } from "../store.ts";
import { prefixProblem } from "./address.ts";

/** Bytes before the first chunk's data. */
export const HEADER_BYTES = 72;

/** Stored bytes per chunk: big values stall Redis, and chunks can be fetched in parallel. */
export const CHUNK_BYTES = 1 << 20;

/** The body encodings. */
export type Encoding = "none" | "zstd";

/**
 * The largest body stored compressed, and the most a compressed value may claim to
 * decode to: decompression runs on the event loop's thread, so its time is bounded by
 * this (a larger body is stored plain). A value that claims more is refused unread.
 */
export const MAX_COMPRESSED_BODY_BYTES = 64 << 20;

const MAGIC = [0x47, 0x43, 0x50, 0x52]; // "GCPR"
const VERSION = 1;

/** What the header says about an entry: its description, and how it is stored. */
export interface EntryHeader extends EntryDescription {
  /** How the stored bytes are encoded. */
  encoding: Encoding;
  /** The number of stored bytes, all chunks together. */
  storedSize: number;
  /** The number of chunks, the first included. */
  chunkCount: number;
  /** Stored bytes per chunk (the last may be shorter). */
  chunkSize: number;
}

/**
 * The key namespace for a prefix.
 *
 * @param prefix The user's prefix, possibly empty.
 * @returns `gocacheprog:` or `gocacheprog:<prefix>:`.
 * @throws {TypeError} For a prefix with braces (see `prefixProblem` in `address.ts`).
 */
export function keyNamespace(prefix: string): string {
  const problem = prefixProblem(prefix);
  if (problem !== undefined) throw new TypeError(problem);
  return prefix === "" ? "gocacheprog:" : `gocacheprog:${prefix}:`;
}

/**
 * The key of an action's header.
 *
 * @param namespace From {@linkcode keyNamespace}.
 * @param actionId The ActionID in hex.
 * @returns The key.
 */
export function entryKey(namespace: string, actionId: string): string {
  return `${namespace}{${actionId}}`;
}

/**
 * The key of an action's lease: beside its entry, on the same Cluster node.
 *
 * @param namespace From {@linkcode keyNamespace}.
 * @param actionId The ActionID in hex.
 * @returns The key.
 */
export function leaseKey(namespace: string, actionId: string): string {
  return `${entryKey(namespace, actionId)}:lease`;
}

/**
 * The key of a build manifest. The braces make the whole name the Cluster hash tag, and
 * keep the key inside the namespace's `{` pattern that `clear --remote` removes.
 *
 * @param namespace From {@linkcode keyNamespace}.
 * @param name The manifest's name: build-type hash and scope.
 * @returns The key.
 */
export function manifestKey(namespace: string, name: string): string {
  return `${namespace}{m:${name}}`;
}

/**
 * The key of one of an action's chunks after the first.
 *
 * @param namespace From {@linkcode keyNamespace}.
 * @param header Which action and output.
 * @param index The chunk's index, from 1.
 * @returns The key.
 */
export function chunkKey(
  namespace: string,
  header: { actionId: string; outputId: string },
  index: number,
): string {
  return `${entryKey(namespace, header.actionId)}:${header.outputId.slice(0, 16)}:${index}`;
}

/**
 * How many chunks hold a stored body: at least one, the header's key's.
 *
 * @param storedSize The stored (encoded) body's size.
 * @returns The chunk count.
 */
export function chunkCountOf(storedSize: number): number {
  return Math.max(1, Math.ceil(storedSize / CHUNK_BYTES));
}

/**
 * Encodes an entry's header: the first {@linkcode HEADER_BYTES} of its key's value,
 * which continues with the first chunk of the stored body.
 *
 * @param header The entry's description; `chunkCount` and `chunkSize` are derived from
 * `storedSize`.
 * @returns The header's bytes.
 */
export function encodeHeader(header: Omit<EntryHeader, "chunkCount" | "chunkSize">): Uint8Array {
  const head = new Uint8Array(HEADER_BYTES);
  head.set(MAGIC, 0);
  head[4] = VERSION;
  head[5] = header.encoding === "zstd" ? 1 : 0;
  const centis = Math.min(Math.ceil((header.computeMillis ?? 0) / 10), 0xffff);
  head.set(Uint8Array.fromHex(header.outputId), 8);
  const view = new DataView(head.buffer);
  view.setUint16(6, centis, true);
  view.setBigUint64(40, BigInt(header.size), true);
  view.setBigInt64(48, header.timeNanos, true);
  view.setBigUint64(56, BigInt(header.storedSize), true);
  view.setUint32(64, chunkCountOf(header.storedSize), true);
  view.setUint32(68, CHUNK_BYTES, true);
  return head;
}

/**
 * Lays out an entry's stored bytes as the header key's value and the chunk values, in
 * memory (the store itself streams them; this serves tests and tools).
 *
 * @param header The entry's description; `storedSize`, `chunkCount` and `chunkSize` are
 * derived from `stored`.
 * @param stored The encoded body.
 * @returns The header key's value, then the values of chunks 1, 2, ...
 */
export function encodeEntry(
  header: Omit<EntryHeader, "storedSize" | "chunkCount" | "chunkSize">,
  stored: Uint8Array,
): { head: Uint8Array; chunks: Uint8Array[] } {
  const chunkCount = chunkCountOf(stored.length);
  const first = stored.subarray(0, CHUNK_BYTES);
  const head = new Uint8Array(HEADER_BYTES + first.length);
  head.set(encodeHeader({ ...header, storedSize: stored.length }));
  head.set(first, HEADER_BYTES);
  const chunks: Uint8Array[] = [];
  for (let index = 1; index < chunkCount; index++) {
    chunks.push(stored.subarray(index * CHUNK_BYTES, (index + 1) * CHUNK_BYTES));
  }
  return { head, chunks };
}

/**
 * Reads a header. Anything that is not a well-formed header of this version is refused,
 * so a stranger's value or a truncated one is never taken for an entry, and neither is
 * one that claims more than an entry may hold.
 *
 * @param value The header key's value (or at least its first {@linkcode HEADER_BYTES}).
 * @returns The header, or `undefined`.
 */
export function decodeHeader(value: Uint8Array): EntryHeader | undefined {
  if (value.length < HEADER_BYTES) return undefined;
  if (MAGIC.some((byte, i) => value[i] !== byte) || value[4] !== VERSION || value[5]! > 1) {
    return undefined;
  }
  const view = new DataView(value.buffer, value.byteOffset, HEADER_BYTES);
  const size = Number(view.getBigUint64(40, true));
  const storedSize = Number(view.getBigUint64(56, true));
  const chunkCount = view.getUint32(64, true);
  const chunkSize = view.getUint32(68, true);
  const encoding: Encoding = value[5] === 1 ? "zstd" : "none";
  if (
    size > MAX_REMOTE_ENTRY_BYTES || storedSize > MAX_REMOTE_ENTRY_BYTES || chunkSize === 0 ||
    chunkCount !== Math.max(1, Math.ceil(storedSize / chunkSize)) ||
    (encoding === "zstd" && size > MAX_COMPRESSED_BODY_BYTES) ||
    (encoding === "none" && storedSize !== size)
  ) {
    return undefined;
  }
  const header: EntryHeader = {
    outputId: value.subarray(8, 40).toHex(),
    size,
    timeNanos: view.getBigInt64(48, true),
    encoding,
    storedSize,
    chunkCount,
    chunkSize,
  };
  const centis = view.getUint16(6, true);
  if (centis > 0) header.computeMillis = centis * 10;
  return header;
}
