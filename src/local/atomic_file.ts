/**
 * File writes for the local store. A file that does not exist yet is created in place,
 * exclusively (`O_CREAT|O_EXCL`): one open, one write, one close. Nobody reads it while
 * it is written, because the store's readers reach an output only through the action
 * entry written after it, and check its size. A file that exists already is replaced
 * atomically: a new temporary file in the final file's own directory (never `$TMPDIR`,
 * which may be another filesystem), then a rename over the final name, so that a reader
 * of the old file never sees a partial one and several processes can share one
 * directory. A failed write removes what it created.
 *
 * Creating in place saves a rename, and the path checks Deno makes for each path it is
 * given: in a cold `go build std`, 1,461 puts of two files each.
 *
 * Synchronous and asynchronous twins: the go command's requests use the synchronous
 * ones (a small write answers sooner without a trip through the thread pool), and
 * background work uses the asynchronous ones, which leave the event loop's thread free.
 *
 * @module
 */

import { temporaryPath } from "./store_files.ts";

/**
 * A file that must not exist yet. No `mode`: it is created 0666 less the umask, as the go
 * command's cache does. Given a mode, `Deno.writeFile` also calls `fchmod` with it, which
 * ignores the umask (files came out world-writable under umask 022) and costs a system
 * call per file.
 */
const NEW_FILE = { createNew: true } as const;

/** {@linkcode NEW_FILE}, opened to be written in pieces. */
const NEW_FILE_OPEN = { write: true, ...NEW_FILE } as const;

/**
 * From this size on, an asynchronous write goes through an open file rather than
 * `Deno.writeFile`, which copies all of its data before writing it on the thread pool (a
 * 13 MiB output cost 14 MiB more at once); `FsFile.write` lends the array instead. Below
 * it, one call (open, write and close together) beats three round trips to the pool.
 */
const LENT_WRITE_BYTES = 1 << 20;

/**
 * Creates a file that must not exist yet, in place, creating its directory if it is
 * missing.
 *
 * @param path The file's path.
 * @param data Its contents.
 * @returns `false`, having written nothing, when a file is already there.
 * @throws What the file system throws; a file this call created is removed first.
 */
export function createFileSync(path: string, data: Uint8Array): boolean {
  try {
    inParentSync(path, () => Deno.writeFileSync(path, data, NEW_FILE));
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    // Created, then the write failed (a full disk, a file-size limit): ours to remove.
    removeQuietlySync(path);
    throw error;
  }
}

/**
 * {@linkcode createFileSync} with asynchronous calls, off the event loop's thread.
 *
 * @param path The file's path.
 * @param data Its contents.
 * @returns `false`, having written nothing, when a file is already there.
 * @throws What the file system throws; a file this call created is removed first.
 */
export async function createFile(path: string, data: Uint8Array): Promise<boolean> {
  try {
    await inParent(path, () => writeNewFile(path, data));
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    await Deno.remove(path).catch(() => {});
    throw error;
  }
}

/**
 * Writes a file: created in place when there is none, else replaced atomically.
 *
 * @param path The file's path.
 * @param data Its contents.
 * @throws What the file system throws; what this call created is removed first.
 */
export function createOrReplaceFileSync(path: string, data: Uint8Array): void {
  if (!createFileSync(path, data)) writeFileAtomicSync(path, data);
}

/**
 * {@linkcode createOrReplaceFileSync} with asynchronous calls, off the event loop's thread.
 *
 * @param path The file's path.
 * @param data Its contents.
 * @throws What the file system throws; what this call created is removed first.
 */
export async function createOrReplaceFile(path: string, data: Uint8Array): Promise<void> {
  if (!(await createFile(path, data))) await writeFileAtomic(path, data);
}

/**
 * Replaces a file atomically, creating its directory if it is missing.
 *
 * @param finalPath The file's path.
 * @param data Its contents.
 * @throws What the file system throws; the temporary file is removed first.
 */
export function writeFileAtomicSync(finalPath: string, data: Uint8Array): void {
  const tempPath = temporaryPath(finalPath);
  try {
    inParentSync(tempPath, () => Deno.writeFileSync(tempPath, data, NEW_FILE));
    Deno.renameSync(tempPath, finalPath);
  } catch (error) {
    removeQuietlySync(tempPath);
    throw error;
  }
}

/**
 * {@linkcode writeFileAtomicSync} with asynchronous calls, off the event loop's thread.
 *
 * @param finalPath The file's path.
 * @param data Its contents.
 * @throws What the file system throws; the temporary file is removed first.
 */
export async function writeFileAtomic(finalPath: string, data: Uint8Array): Promise<void> {
  const tempPath = temporaryPath(finalPath);
  try {
    await inParent(tempPath, () => writeNewFile(tempPath, data));
    await Deno.rename(tempPath, finalPath);
  } catch (error) {
    await Deno.remove(tempPath).catch(() => {});
    throw error;
  }
}

/**
 * A file written in pieces, then renamed into place ({@linkcode StreamedFile.commit})
 * or removed ({@linkcode StreamedFile.abort}): for bodies too large to hold in memory.
 */
export class StreamedFile {
  #finalPath: string;
  #tempPath: string;
  #file: Deno.FsFile;

  private constructor(finalPath: string, tempPath: string, file: Deno.FsFile) {
    this.#finalPath = finalPath;
    this.#tempPath = tempPath;
    this.#file = file;
  }

  /**
   * Creates the temporary file, and its directory if it is missing.
   *
   * @param finalPath Where the file goes once committed.
   * @returns The open file.
   */
  static async create(finalPath: string): Promise<StreamedFile> {
    const tempPath = temporaryPath(finalPath);
    const file = await inParent(tempPath, () => Deno.open(tempPath, NEW_FILE_OPEN));
    return new StreamedFile(finalPath, tempPath, file);
  }

  /**
   * Appends bytes.
   *
   * @param data The bytes.
   */
  async write(data: Uint8Array): Promise<void> {
    await writeAll(this.#file, data);
  }

  /** Closes the file and renames it into place; on failure, removes it. */
  async commit(): Promise<void> {
    this.#file.close();
    try {
      await Deno.rename(this.#tempPath, this.#finalPath);
    } catch (error) {
      await Deno.remove(this.#tempPath).catch(() => {});
      throw error;
    }
  }

  /** Closes and removes the file. */
  async abort(): Promise<void> {
    try {
      this.#file.close();
    } catch {
      // already closed
    }
    await Deno.remove(this.#tempPath).catch(() => {});
  }
}

/**
 * What `stat` says of a regular file, or `undefined` if there is none at `path`.
 *
 * @param path The file.
 * @returns Its information, or `undefined`.
 */
export function fileInfo(path: string): Deno.FileInfo | undefined {
  try {
    const info = Deno.statSync(path);
    return info.isFile ? info : undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * {@linkcode fileInfo} with an asynchronous call.
 *
 * @param path The file.
 * @returns Its information, or `undefined`.
 */
export async function fileInfoAsync(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    const info = await Deno.stat(path);
    return info.isFile ? info : undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Creates a file that must not exist yet and writes `data` to it, off the event loop's thread. */
async function writeNewFile(path: string, data: Uint8Array): Promise<void> {
  if (data.length < LENT_WRITE_BYTES) return await Deno.writeFile(path, data, NEW_FILE);
  const file = await Deno.open(path, NEW_FILE_OPEN);
  try {
    await writeAll(file, data);
  } finally {
    file.close();
  }
}

/** Writes all of `data` to an open file. */
async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) written += await file.write(data.subarray(written));
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

/**
 * Makes a file at `path` with `make`; if its directory is missing (a new shard, or one
 * removed by `go clean -cache`), creates it and tries once more.
 */
function inParentSync<T>(path: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    Deno.mkdirSync(parentOf(path), { recursive: true });
    return make();
  }
}

/** {@linkcode inParentSync} with asynchronous calls. */
async function inParent<T>(path: string, make: () => Promise<T>): Promise<T> {
  try {
    return await make();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    await Deno.mkdir(parentOf(path), { recursive: true });
    return await make();
  }
}

function removeQuietlySync(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // never created, or already gone: the original error is the one worth reporting
  }
}
