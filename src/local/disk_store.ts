/**
 * The local disk store, in the go command's own `GOCACHE` layout:
 *
 * - `<dir>/<xx>/<ActionID>-a`: the action entry, in the native entry format;
 * - `<dir>/<xx>/<OutputID>-d`: the output's bytes;
 * - `<dir>/<xx>/<ActionID>-s`: how long the entry took to produce, in milliseconds, when
 *   known and asked for (ours only: the go command ignores it);
 *
 * where `<xx>` is the first two hex digits of the ID. Because the layout is native,
 * `go clean -cache` empties it, a build without GOCACHEPROG reuses what this store
 * wrote and the other way round, and DiskPath files live under `GOCACHE`, which the go
 * command copies instead of moving away.
 *
 * A new file is created in place; one that exists already is replaced by a rename, so
 * several processes can share one directory and a reader never sees a partial file
 * (see `atomic_file.ts`). There is no fsync: the go command's own cache does not sync
 * either, and a reader checks the size of every output before using it.
 *
 * The parts: `entry_files.ts` (the entry files, read and written), `output_files.ts`
 * and `output_writer.ts` (output files), `deferred_entries.ts` (entry files put off to
 * answer a remote hit sooner), `file_body.ts` (outputs read back for uploads).
 *
 * @module
 */

import type {
  BackgroundWork,
  Hit,
  LocalStore,
  OutputBody,
  PutRequest,
  PutWriter,
  Urgency,
} from "../store.ts";
import { EntryFiles, writeEntry, writeEntrySync } from "./entry_files.ts";
import { DeferredEntries } from "./deferred_entries.ts";
import { checkBody, writeOutput, writeOutputSync } from "./output_files.ts";
import { IN_MEMORY_BODY_LIMIT, OutputWriter } from "./output_writer.ts";
import { openFileBody } from "./file_body.ts";

/** Options for {@linkcode DiskStore}. */
export interface DiskStoreOptions {
  /**
   * Keep how long each entry took to produce, in a file beside it, and read it on every
   * hit, for the "compile time replaced" figure of `--metrics-file`. It costs a file
   * creation on every put and an extra small file read on every hit, so it is off unless
   * that figure is wanted.
   *
   * @default {false}
   */
  keepComputeTimes?: boolean;
  /**
   * Do background work (prefetched entries) on the event loop's thread, as work a get
   * waits on is done: for a process that serves no go command (the `prefetch`
   * command), where nothing else needs that thread and its synchronous calls finish
   * sooner.
   *
   * @default {false}
   */
  backgroundOnEventLoop?: boolean;
}

/**
 * A {@linkcode LocalStore} in a directory laid out like the go command's `GOCACHE`.
 *
 * @example Store an entry and find it again
 * ```ts
 * import assert from "node:assert/strict";
 * import { DiskStore } from "./disk_store.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await DiskStore.open(dir);
 * const body = new TextEncoder().encode("hello");
 * const outputId = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
 * const writer = store.startPut({ actionId: "ab".repeat(32), outputId, size: body.length });
 * await writer.write(body);
 * await writer.commit();
 * assert.equal(store.get("ab".repeat(32))?.diskPath, `${dir}/2c/${outputId}-d`);
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DiskStore implements LocalStore {
  /** The absolute directory of the store. */
  readonly dir: string;
  /** Entries deferred to answer remote hits sooner, written when the engine is idle. */
  readonly background: BackgroundWork;
  #files: EntryFiles;
  #deferred = new DeferredEntries();
  #backgroundOnEventLoop: boolean;

  /**
   * Creates a store over an existing directory; see {@linkcode DiskStore.open}.
   *
   * @param dir An absolute directory path.
   * @param options What else to keep track of, and how to do background work.
   */
  constructor(dir: string, options: DiskStoreOptions = {}) {
    this.dir = dir;
    this.#files = new EntryFiles(dir, options.keepComputeTimes ?? false);
    this.#backgroundOnEventLoop = options.backgroundOnEventLoop ?? false;
    this.background = { busy: () => false, runDeferred: () => this.#deferred.flush() };
  }

  /**
   * Opens a store, creating its directory if needed.
   *
   * @param dir An absolute directory path.
   * @param options What else to keep track of.
   * @returns The store.
   * @throws {TypeError} If the path is not absolute; also what creating it throws.
   */
  static async open(dir: string, options: DiskStoreOptions = {}): Promise<DiskStore> {
    if (!dir.startsWith("/")) throw new TypeError(`Cache directory must be absolute: "${dir}"`);
    await Deno.mkdir(dir, { recursive: true });
    return new DiskStore(dir, options);
  }

  /**
   * The path of an action entry file.
   *
   * @param actionId The ActionID in hex.
   * @returns `<dir>/<xx>/<actionId>-a`.
   */
  entryPath(actionId: string): string {
    return this.#files.entryPath(actionId);
  }

  /**
   * The path of an output file, which is what the go command is given as DiskPath.
   *
   * @param outputId The OutputID in hex.
   * @returns `<dir>/<xx>/<outputId>-d`.
   */
  outputPath(outputId: string): string {
    return this.#files.outputPath(outputId);
  }

  /**
   * Looks up an entry. A hit needs a valid entry file for this ActionID and an output
   * file of exactly the recorded size; anything else (say, after `go clean -cache`) is
   * a miss. The reads are synchronous on purpose: they touch a 175-byte file and one
   * inode, and the asynchronous calls cost several times more than the work itself.
   *
   * @param actionId The ActionID in hex.
   * @returns The hit, or `undefined` on a miss.
   */
  get(actionId: string): Hit | undefined {
    return this.#deferred.get(actionId) ?? this.#files.read(actionId);
  }

  /**
   * Tells whether an entry is stored, cheaply and without counting as a use: a prefetch
   * checks every entry of a manifest before the go command's gets, and must not keep
   * entries from being trimmed. It looks for the action entry file only, one `stat`. An
   * entry whose output has gone missing is then not prefetched; the go command's get
   * still checks everything, misses, and fetches it on demand.
   *
   * @param actionId The ActionID in hex.
   * @returns Whether the action's entry file exists.
   */
  has(actionId: string): boolean {
    return this.#deferred.has(actionId) || this.#files.exists(actionId);
  }

  /**
   * Starts storing an entry. The output is written first and the action entry last, so
   * an entry never names an output that is not there yet. An output file that already
   * holds this output (its size and SHA-256 checked) is left alone: another go process
   * may be reading it. One that does not is replaced, by a rename, which readers of the
   * old file never notice.
   *
   * @param request The entry's IDs and size.
   * @returns The writer for its body.
   */
  startPut(request: PutRequest): PutWriter {
    const output = new OutputWriter(this.outputPath(request.outputId), request);
    return {
      write: (chunk) => output.write(chunk),
      abort: () => output.abort(),
      commit: () => {
        const placed = output.commit();
        if (placed instanceof Promise) return placed.then(() => this.#recordPut(request));
        return this.#recordPut(request);
      },
    };
  }

  /**
   * Stores a whole entry fetched from elsewhere, once its body is checked. For a get that
   * waits, the body is hashed and written with synchronous calls and the hit returned as
   * soon as the output is in place: the entry's files are written by
   * {@linkcode BackgroundWork.runDeferred} (which the engine calls once every request is
   * answered and written), or at the latest by {@linkcode DiskStore.close}, and until
   * then this store answers for the action from memory. An entry that fails to be
   * written only costs a later process a fetch: the output the go command was given is
   * in place. Large bodies, and background work, are hashed and written on Deno's
   * thread pool, so that the go command's requests are not held behind them (unless
   * the store was opened with `backgroundOnEventLoop`).
   *
   * @param request The entry's IDs, size and put time.
   * @param body The body.
   * @param urgency Who waits on it.
   * @returns The hit the entry now gives.
   * @throws {CorruptEntryError} If the body is not the entry's.
   */
  async storeFetched(request: PutRequest, body: Uint8Array, urgency: Urgency): Promise<Hit> {
    const onEventLoop = urgency === "demand" || this.#backgroundOnEventLoop;
    await checkBody(request, body, !onEventLoop);
    const entry = this.#files.writesFor(request);
    if (!onEventLoop || body.length > IN_MEMORY_BODY_LIMIT) {
      await writeOutput(entry.hit.diskPath, request, body);
      await writeEntry(entry);
      return entry.hit;
    }
    writeOutputSync(entry.hit.diskPath, request, body);
    this.#deferred.add(request.actionId, entry);
    return { ...entry.hit };
  }

  /**
   * Opens a stored output to read it a piece at a time, for an upload.
   *
   * @param outputId The OutputID in hex.
   * @param size Its size, as its entry records it.
   * @returns The body, or `undefined` when the output is gone or not of that size.
   */
  openOutput(outputId: string, size: number): Promise<OutputBody | undefined> {
    return openFileBody(this.outputPath(outputId), size);
  }

  /** Writes the entries of remote hits still deferred. */
  close(): Promise<void> {
    this.#deferred.flush();
    return Promise.resolve();
  }

  /** Records a put's entry, its output being in place. */
  #recordPut(request: PutRequest): Hit {
    // A put's entry is newer than one a remote hit deferred: that one must not follow it.
    this.#deferred.drop(request.actionId);
    const entry = this.#files.writesFor(request);
    writeEntrySync(entry);
    return entry.hit;
  }
}
