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
 * @module
 */

import type { Hit, LocalStore, PutRequest, PutWriter } from "../store.ts";
import { encodeNativeEntry, NATIVE_ENTRY_BYTES, parseNativeEntry } from "./native_entry.ts";
import { concatBytes } from "../util/bytes.ts";
import {
  createFile,
  createFileSync,
  createOrReplaceFile,
  createOrReplaceFileSync,
  fileInfo,
  fileInfoAsync,
  StreamedFile,
  writeFileAtomic,
  writeFileAtomicSync,
} from "./atomic_file.ts";
import { storeFilePath } from "./store_files.ts";
import { loadedSha256, sha256HexOffThread } from "../util/sha256.ts";

/**
 * Bodies up to this size are gathered in memory and written with one call; larger ones
 * are streamed to a temporary file so memory stays bounded whatever the body size.
 */
const IN_MEMORY_BODY_LIMIT = 1 << 20;

/** Remote hits whose entry files may wait for {@linkcode DiskStore.idle}, at most. */
const MAX_DEFERRED_ENTRIES = 64;

/** A hit refreshes a file's use time (mtime) when it is older than this, as the go command. */
const USE_TIME_INTERVAL_MILLIS = 3_600_000;

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

/** Options for {@linkcode DiskStore}. */
export interface DiskStoreOptions {
  /**
   * Keep how long each entry took to produce, in a file beside it, and read it on every
   * hit, for the "compile time saved" estimate of `--metrics-file`. It costs a file
   * creation on every put and an extra small file read on every hit, so it is off unless
   * that estimate is wanted.
   *
   * @default {false}
   */
  keepComputeTimes?: boolean;
}

/**
 * A {@linkcode LocalStore} in a directory laid out like the go command's `GOCACHE`.
 *
 * @example Store an entry and find it again
 * ```ts ignore
 * import { DiskStore } from "@gocacheprog/gocacheprog";
 *
 * const store = await DiskStore.open("/tmp/go-build");
 * const body = new TextEncoder().encode("hello");
 * const outputId = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
 * const writer = store.startPut({ actionId: "ab".repeat(32), outputId, size: body.length });
 * await writer.write(body);
 * await writer.commit();
 * console.log(store.get("ab".repeat(32))?.diskPath); // /tmp/go-build/2c/2cf2...-d
 * ```
 */
export class DiskStore implements LocalStore {
  /** The absolute directory of the store. */
  readonly dir: string;
  /** One byte longer than an entry, to tell a too-long file from a valid one. */
  #entryBuffer = new Uint8Array(NATIVE_ENTRY_BYTES + 1);
  #keepComputeTimes: boolean;
  /**
   * Entries fetched for a get whose output is in place and whose entry files are yet to
   * be written (see {@linkcode DiskStore.storeForGet}), by ActionID, in order.
   */
  #deferred = new Map<string, { hit: Hit; writes: [string, Uint8Array][] }>();

  /**
   * Creates a store over an existing directory; see {@linkcode DiskStore.open}.
   *
   * @param dir An absolute directory path.
   */
  constructor(dir: string, options: DiskStoreOptions = {}) {
    this.dir = dir;
    this.#keepComputeTimes = options.keepComputeTimes ?? false;
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
   * Looks up an entry. A hit needs a valid entry file for this ActionID and an output
   * file of exactly the recorded size; anything else (say, after `go clean -cache`) is
   * a miss. Both reads are synchronous on purpose: they touch a 175-byte file and one
   * inode, and the asynchronous calls cost several times more than the work itself.
   *
   * @param actionId The ActionID in hex.
   * @returns The hit, or `undefined` on a miss.
   */
  get(actionId: string): Hit | undefined {
    const deferred = this.#deferred.get(actionId);
    if (deferred !== undefined) return { ...deferred.hit };
    const found = this.#lookup(actionId);
    if (found === undefined) return undefined;
    const { entry, entryMtime, diskPath, outputMtime } = found;
    // Use times drive trimming (ours, and the go command's when run without us). Like the
    // go command, refresh them at most once an hour: a write per hit would cost more.
    const now = Date.now();
    if (now - entryMtime >= USE_TIME_INTERVAL_MILLIS) touch(this.entryPath(actionId), now);
    if (now - outputMtime >= USE_TIME_INTERVAL_MILLIS) touch(diskPath, now);
    const hit: Hit = {
      outputId: entry.outputId,
      size: entry.size,
      timeNanos: entry.timeNanos,
      diskPath,
    };
    if (this.#keepComputeTimes) {
      const recorded = readSmallFile(this.computeTimePath(actionId), this.#entryBuffer);
      const millis = recorded === undefined ? NaN : Number(recorded.text);
      if (Number.isFinite(millis) && millis > 0) hit.computeMillis = millis;
    }
    return hit;
  }

  /**
   * Tells whether an entry is stored, cheaply and without counting as a use: a prefetch
   * checks every entry of a manifest before the go command's gets, and must not keep
   * entries from being trimmed. It looks for the action entry file only, one `stat`
   * (a full lookup cost 40-86 ms for a 1,072-entry manifest here, against 5-8 ms). An
   * entry whose output has gone missing is then not prefetched; the go command's get
   * still checks everything, misses, and fetches it on demand.
   *
   * @param actionId The ActionID in hex.
   * @returns Whether the action's entry file exists.
   */
  has(actionId: string): boolean {
    if (this.#deferred.has(actionId)) return true;
    return fileInfo(this.entryPath(actionId)) !== undefined;
  }

  /** Finds a valid entry and its output of the right size. */
  #lookup(actionId: string) {
    const read = readSmallFile(this.entryPath(actionId), this.#entryBuffer);
    if (read === undefined) return undefined;
    const entry = parseNativeEntry(read.text);
    if (entry === undefined || entry.actionId !== actionId) return undefined;
    const diskPath = this.outputPath(entry.outputId);
    const output = fileInfo(diskPath);
    if (output === undefined || output.size !== entry.size) return undefined;
    return {
      entry,
      entryMtime: read.mtime,
      diskPath,
      outputMtime: output.mtime?.getTime() ?? Date.now(),
    };
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
    return new DiskPutWriter(this, request);
  }

  /**
   * Writes the action entry for an output that is already in place.
   *
   * @param request The entry's IDs and size.
   * @returns The hit the entry now gives.
   */
  writeEntry(request: PutRequest): Hit {
    // A put's entry is newer than one a remote hit deferred: that one must not follow it.
    this.#deferred.delete(request.actionId);
    const files = this.#entryFiles(request);
    for (const [path, bytes] of files.writes) createOrReplaceFileSync(path, bytes);
    return files.hit;
  }

  /**
   * The files that record an entry whose output is in place, in the order to write
   * them (the action entry last, so that it never names what is not there yet), and the
   * hit they give.
   */
  #entryFiles(request: PutRequest): { writes: [string, Uint8Array][]; hit: Hit } {
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
    const hit = {
      outputId: request.outputId,
      size: request.size,
      timeNanos,
      diskPath: this.outputPath(request.outputId),
    };
    return { writes, hit };
  }

  /**
   * Stores a whole entry with asynchronous file calls, which run on Deno's thread pool:
   * for background work (a prefetch), whose writes would otherwise hold the event loop's
   * thread while the go command's requests wait (copying 160 MiB into the page cache
   * took about 0.4 s of that thread in a remote-warm `go build std`). A put the go
   * command waits on uses {@linkcode startPut} instead, whose synchronous calls answer
   * sooner.
   *
   * @param request The entry's IDs and size.
   * @param body The whole body, already verified.
   * @returns The hit the entry now gives.
   */
  async storeInBackground(request: PutRequest, body: Uint8Array): Promise<Hit> {
    const files = this.#entryFiles(request);
    await writeOutput(files.hit.diskPath, request, body);
    for (const [path, bytes] of files.writes) await createOrReplaceFile(path, bytes);
    return files.hit;
  }

  /**
   * Stores a whole, verified entry that a get is waiting for (a remote hit), and
   * returns the hit as soon as the go command can use it: once the output is in place.
   * The action entry is written later, by {@linkcode DiskStore.idle} (which the engine
   * calls once every request is answered and written, while the go command works on the
   * answer), or at the latest by {@linkcode DiskStore.close}; until then this store
   * answers gets and `has` for the action from memory. An entry that fails to be
   * written only costs a later process a fetch: the output the go command was given is
   * in place. Outputs over 1 MiB are written off the event loop's thread, as by
   * {@linkcode DiskStore.storeInBackground}.
   *
   * This answers a remote hit one file creation sooner than a put would (measured at
   * 0.2-0.5 ms a file here), and a remote-warm `go build std` has 1,072 of them, nearly
   * all asked for one at a time. The deferred write stays synchronous: creating small
   * files on the thread pool cost about half as much kernel time again here.
   *
   * @param request The entry's IDs and size.
   * @param body The whole body, already verified.
   * @returns The hit, at once or, for a large body, as a promise.
   */
  storeForGet(request: PutRequest, body: Uint8Array): Hit | Promise<Hit> {
    if (body.length > IN_MEMORY_BODY_LIMIT) return this.storeInBackground(request, body);
    const files = this.#entryFiles(request);
    writeOutputSync(files.hit.diskPath, request, body);
    this.#deferred.set(request.actionId, files);
    // Without an engine that calls idle() (the prefetch command), at most a few wait.
    if (this.#deferred.size > MAX_DEFERRED_ENTRIES) this.idle();
    return { ...files.hit };
  }

  /**
   * Writes the entry files that {@linkcode DiskStore.storeForGet} deferred. Called by
   * the engine when it has nothing to answer, before it waits for the next request.
   */
  idle(): void {
    for (const [actionId, { writes }] of this.#deferred) {
      this.#deferred.delete(actionId);
      try {
        for (const [path, bytes] of writes) createOrReplaceFileSync(path, bytes);
      } catch {
        // the output is in place; a later process misses and fetches it again
      }
    }
  }

  /** Writes the entries of remote hits still deferred. */
  close(): Promise<void> {
    this.idle();
    return Promise.resolve();
  }
}

class DiskPutWriter implements PutWriter {
  #store: DiskStore;
  #request: PutRequest;
  #outputPath: string;
  /** Whether the output file already holds this output, once a streamed body asks. */
  #alreadyStored = false;
  #buffered: Uint8Array[] = [];
  #bufferedBytes = 0;
  #file: StreamedFile | undefined;

  constructor(store: DiskStore, request: PutRequest) {
    this.#store = store;
    this.#request = request;
    this.#outputPath = store.outputPath(request.outputId);
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#alreadyStored) return;
    if (this.#file === undefined) {
      if (this.#bufferedBytes + chunk.length <= IN_MEMORY_BODY_LIMIT) {
        this.#buffered.push(chunk);
        this.#bufferedBytes += chunk.length;
        return;
      }
      if (holdsOutput(this.#outputPath, this.#request)) {
        this.#alreadyStored = true;
        this.#buffered = [];
        return;
      }
      this.#file = await StreamedFile.create(this.#outputPath);
      for (const part of this.#buffered) await this.#file.write(part);
      this.#buffered = [];
    }
    await this.#file.write(chunk);
  }

  commit(): Hit | Promise<Hit> {
    const file = this.#file;
    if (file === undefined) {
      // Small bodies, and outputs already stored, finish at once.
      if (!this.#alreadyStored) {
        const body = concatBytes(this.#buffered, this.#bufferedBytes);
        writeOutputSync(this.#outputPath, this.#request, body);
      }
      this.#buffered = [];
      return this.#store.writeEntry(this.#request);
    }
    this.#file = undefined;
    return file.commit().then(() => this.#store.writeEntry(this.#request));
  }

  async abort(): Promise<void> {
    this.#buffered = [];
    await this.#file?.abort();
    this.#file = undefined;
  }
}

/**
 * Writes an output file: created in place when there is none, left alone when it holds
 * this output already (another go process may be reading it), replaced atomically when
 * it does not.
 */
function writeOutputSync(path: string, request: PutRequest, body: Uint8Array): void {
  if (createFileSync(path, body)) return;
  if (!holdsOutput(path, request)) writeFileAtomicSync(path, body);
}

/** {@linkcode writeOutputSync}, off the event loop's thread. */
async function writeOutput(path: string, request: PutRequest, body: Uint8Array): Promise<void> {
  if (await createFile(path, body)) return;
  if (!(await holdsOutputInBackground(path, request))) await writeFileAtomic(path, body);
}

/**
 * Whether an output file already holds this output: the right size and, as the go
 * command checks before it trusts one, the right SHA-256. A damaged file of the right
 * size (a crash, a bad disk) is then rewritten by the put, instead of being served and
 * re-uploaded forever. Before the hash module has loaded (the first moments of a
 * session), the file is rewritten rather than trusted.
 */
function holdsOutput(path: string, request: PutRequest): boolean {
  if (fileInfo(path)?.size !== request.size) return false;
  const sha256 = loadedSha256();
  if (sha256 === undefined) return false;
  const hash = sha256();
  try {
    hash.update(Deno.readFileSync(path));
  } catch {
    return false; // removed meanwhile, or unreadable: write it
  }
  return hash.digestHex() === request.outputId;
}

/** {@linkcode holdsOutput}, with the read and the hash off the event loop's thread. */
async function holdsOutputInBackground(path: string, request: PutRequest): Promise<boolean> {
  if ((await fileInfoAsync(path))?.size !== request.size) return false;
  try {
    return (await sha256HexOffThread(await Deno.readFile(path))) === request.outputId;
  } catch {
    return false;
  }
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
