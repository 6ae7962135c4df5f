/**
 * The go command's own action-entry format, so that the local store is a valid
 * `GOCACHE`: a build with GOCACHEPROG and one without share the same files.
 * Layout (from `cmd/go/internal/cache/cache.go`):
 * `v1 <hex ActionID> <hex OutputID> <size, space-padded to 20> <unix nanos, space-padded to 20>\n`.
 *
 * @module
 */

import { isHexId } from "../util/ids.ts";
import type { EntryDescription } from "../store.ts";

/** The exact length of an entry file. */
export const NATIVE_ENTRY_BYTES = 175;

/** The contents of one action entry file: an entry's description, and its action. */
export interface NativeEntry extends Omit<EntryDescription, "computeMillis"> {
  /** The ActionID in hex. */
  actionId: string;
}

/**
 * Formats an entry exactly as the go command does.
 *
 * @param entry The entry.
 * @returns The 175-character file contents.
 */
export function encodeNativeEntry(entry: NativeEntry): string {
  return `v1 ${entry.actionId} ${entry.outputId} ${String(entry.size).padStart(20)} ${
    String(entry.timeNanos).padStart(20)
  }\n`;
}

const DIGITS = /^\d+$/;

/**
 * Parses an entry file, with the same checks as the go command.
 *
 * @param text The file's contents.
 * @returns The entry, or `undefined` if the file is not a valid entry.
 */
export function parseNativeEntry(text: string): NativeEntry | undefined {
  if (
    text.length !== NATIVE_ENTRY_BYTES || !text.startsWith("v1 ") || text[67] !== " " ||
    text[132] !== " " || text[153] !== " " || text[174] !== "\n"
  ) {
    return undefined;
  }
  const actionId = text.slice(3, 67);
  const outputId = text.slice(68, 132);
  const size = text.slice(133, 153).trimStart();
  const time = text.slice(154, 174).trimStart();
  if (!isHexId(actionId) || !isHexId(outputId) || !DIGITS.test(size) || !DIGITS.test(time)) {
    return undefined;
  }
  return { actionId, outputId, size: Number(size), timeNanos: BigInt(time) };
}
