/**
 * The files that record an entry in the go command's layout, apart from its output:
 * the action entry (`-a`, the native entry format) and, when asked for, our own compute
 * time beside it (`-s`). Reading one back checks it as the go command does, and checks
 * that its output is in place with its recorded size.
 *
 * @module
 */

import type { Hit, PutRequest } from "../store.ts";
import { encodeNativeEntry, NATIVE_ENTRY_BYTES, parseNativeEntry } from "./native_entry.ts";
import { storeFilePath } from "./store_files.ts";
import { createOrReplaceFile, createOrReplaceFileSync, fileInfo } from "./atomic_file.ts";

/** A hit refreshes a file's use time (mtime) when it is older than this, as the go command. */
const USE_TIME_INTERVAL_MILLIS = 3_600_000;

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

/** The files to write for one entry, in order, and the hit they give once written. */
export interface EntryWrites {
  /** Paths and contents, the action entry last (so that it never names what is not there). */
  writes: [string, Uint8Array][];
  /** The hit the entry gives. */
  hit: Hit;
}

/** Reads and writes the entry files of a store directory. */
export class EntryFiles {
  /** The store's directory. */
  readonly dir: string;
  #keepComputeTimes: boolean;
  /** One byte longer than an entry, to tell a too-long file from a valid one. */
  #buffer = new Uint8Array(NATIVE_ENTRY_BYTES + 1);

  /**
   * Creates the reader and writer of a directory's entry files.
   *
   * @param dir The store's absolute directory.
   * @param keepComputeTimes Whether `-s` files are written and read.
   */
  constructor(dir: string, keepComputeTimes: boolean) {
    this.dir = dir;
    this.#keepComputeTimes = keepComputeTimes;
  }

  /**
   * The path of an action entry file.
   *
   * @param actionId The ActionID in hex.
   * @returns `<dir>/<xx>/<actionId>-a`.
   */
  entryPath(actionId: string): string {
    return storeFilePath(this.dir, actionId, "a");
  }

  /**
   * The path of the file that records how long an entry took to produce.
   *
   * @param actionId The ActionID in hex.
   * @returns `<dir>/<xx>/<actionId>-s`.
   */
  computeTimePath(actionId: string): string {
    return storeFilePath(this.dir, actionId, "s");
  }

  /**
   * The path of an output file, which is what the go command is given as DiskPath.
   *
   * @param outputId The OutputID in hex.
   * @returns `<dir>/<xx>/<outputId>-d`.
   */
  outputPath(outputId: string): string {
    return storeFilePath(this.dir, outputId, "d");
  }

  /**
   * Whether an action entry file exists: one `stat`, without reading it.
   *
   * @param actionId The ActionID in hex.
   * @returns `true` when there is one.
   */
  exists(actionId: string): boolean {
    return fileInfo(this.entryPath(actionId)) !== undefined;
  }

  /**
   * Reads an entry back: a valid entry file for this ActionID, and an output file of
   * exactly the recorded size; anything else is `undefined`. Refreshes use times at most
   * once an hour, as the go command does.
   *
   * @param actionId The ActionID in hex.
   * @returns The hit, or `undefined`.
   */
  read(actionId: string): Hit | undefined {
    const read = readSmallFile(this.entryPath(actionId), this.#buffer);
    if (read === undefined) return undefined;
    const entry = parseNativeEntry(read.text);
    if (entry === undefined || entry.actionId !== actionId) return undefined;
    const diskPath = this.outputPath(entry.outputId);
    const output = fileInfo(diskPath);
    if (output === undefined || output.size !== entry.size) return undefined;
    // Use times drive trimming (ours, and the go command's when run without us). Like the
    // go command, refresh them at most once an hour: a write per hit would cost more.
    const now = Date.now();
    if (now - read.mtime >= USE_TIME_INTERVAL_MILLIS) touch(this.entryPath(actionId), now);
    if (now - (output.mtime?.getTime() ?? now) >= USE_TIME_INTERVAL_MILLIS) touch(diskPath, now);
    const hit: Hit = {
      outputId: entry.outputId,
      size: entry.size,
      timeNanos: entry.timeNanos,
      diskPath,
    };
    if (this.#keepComputeTimes) {
      const recorded = readSmallFile(this.computeTimePath(actionId), this.#buffer);
      const millis = recorded === undefined ? NaN : Number(recorded.text);
      if (Number.isFinite(millis) && millis > 0) hit.computeMillis = millis;
    }
    return hit;
  }

  /**
   * The files that record an entry whose output is in place, and the hit they give.
   *
   * @param request The entry; its put time is now unless given.
   * @returns The writes, in order.
   */
  writesFor(request: PutRequest): EntryWrites {
    const timeNanos = request.timeNanos ?? nowNanos();
    const writes: [string, Uint8Array][] = [];
    if (this.#keepComputeTimes && request.computeMillis !== undefined) {
      // Beside the entry, because the native entry format has no room for it.
      const millis = String(Math.max(1, Math.round(request.computeMillis)));
      writes.push([this.computeTimePath(request.actionId), textEncoder.encode(millis)]);
    }
    const entry = encodeNativeEntry({
      actionId: request.actionId,
      outputId: request.outputId,
      size: request.size,
      timeNanos,
    });
    writes.push([this.entryPath(request.actionId), textEncoder.encode(entry)]);
    const hit: Hit = {
      outputId: request.outputId,
      size: request.size,
      timeNanos,
      diskPath: this.outputPath(request.outputId),
    };
    return { writes, hit };
  }
}

/**
 * Writes an entry's files with synchronous calls, for work the go command waits on.
 *
 * @param entry The files.
 */
export function writeEntrySync(entry: EntryWrites): void {
  for (const [path, bytes] of entry.writes) createOrReplaceFileSync(path, bytes);
}

/**
 * Writes an entry's files with asynchronous calls, off the event loop's thread.
 *
 * @param entry The files.
 */
export async function writeEntry(entry: EntryWrites): Promise<void> {
  for (const [path, bytes] of entry.writes) await createOrReplaceFile(path, bytes);
}

/**
 * Reads a small file into `buffer` with one read: three system calls, where
 * `Deno.readFileSync` makes six.
 *
 * @returns The text read (at most `buffer.length` bytes), or `undefined` if there is no
 * such file.
 */
function readSmallFile(
  path: string,
  buffer: Uint8Array,
): { text: string; mtime: number } | undefined {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    const count = file.readSync(buffer) ?? 0;
    const mtime = file.statSync().mtime?.getTime() ?? Date.now();
    return { text: textDecoder.decode(buffer.subarray(0, count)), mtime };
  } finally {
    file.close();
  }
}

/** Sets a file's use time to now; a file removed meanwhile (a trim, a clean) is fine. */
function touch(path: string, now: number): void {
  try {
    const date = new Date(now);
    Deno.utimeSync(path, date, date);
  } catch {
    // gone, or not ours to change: the use time is only a hint
  }
}

/** The current time in Unix nanoseconds, with sub-millisecond precision. */
function nowNanos(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}
