/**
 * Putting bytes into stores, and making bodies and remote entries, for the store tests.
 *
 * @module
 */

import {
  bytesReader,
  type CacheStore,
  type Hit,
  type PutRequest,
  type RemoteEntry,
  type RemoteUpload,
} from "../../src/store.ts";
import { sha256HexOffThread } from "../../src/util/sha256.ts";

/**
 * Stores a body through a store's put writer, in the pieces given.
 *
 * @param store The store.
 * @param request The entry's IDs and size, as the go command would send them.
 * @param chunks The body, in pieces.
 * @returns The hit the store answers with.
 */
export async function putChunks(
  store: CacheStore,
  request: PutRequest,
  ...chunks: Uint8Array[]
): Promise<Hit> {
  const writer = store.startPut(request);
  for (const chunk of chunks) await writer.write(chunk);
  return await writer.commit();
}

/**
 * Stores a body under an action, with its real OutputID.
 *
 * @param store The store.
 * @param actionId The ActionID in hex.
 * @param body The body.
 * @returns The hit the store answers with.
 */
export async function putBytes(
  store: CacheStore,
  actionId: string,
  body: Uint8Array,
): Promise<Hit> {
  const outputId = await sha256HexOffThread(body);
  return await putChunks(store, { actionId, outputId, size: body.length }, body);
}

/**
 * Random bytes, of any length (`crypto.getRandomValues` fills 64 KiB at a time).
 *
 * @param length How many.
 * @returns The bytes.
 */
export function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += 65536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(offset + 65536, length)));
  }
  return bytes;
}

/**
 * A remote entry holding a body, with its real OutputID.
 *
 * @param body The body.
 * @returns The entry.
 */
export async function remoteEntryOf(body: Uint8Array): Promise<RemoteEntry> {
  const outputId = await sha256HexOffThread(body);
  return { outputId, size: body.length, timeNanos: 1_700_000_000_123_456_789n, body };
}

/**
 * What a remote entry holds, without the store's `release`: for comparing an entry read
 * back with the one stored.
 *
 * @param entry The entry read, if any.
 * @returns Its description and body.
 */
export function contentOf(entry: RemoteEntry | undefined): RemoteEntry | undefined {
  if (entry === undefined) return undefined;
  const { release: _release, ...content } = entry;
  return content;
}

/**
 * An entry to upload, from an entry held in memory.
 *
 * @param entry The entry.
 * @returns The same entry, its body read from memory.
 */
export function uploadOf(entry: RemoteEntry): RemoteUpload {
  const { body, ...rest } = entry;
  return { ...rest, body: bytesReader(body) };
}
