/**
 * The names of the local store's files, in one place: the go command's `-a` (action
 * entry) and `-d` (output), our `-s` (compute time), and the temporary names atomic
 * writes use. Trimming, `clear --local` and `stats` walk the store by these rules, and
 * leave every other file alone (the go command's own `README`, `testexpire.txt`).
 *
 * @module
 */

/** The store's shard directories: `00` to `ff`, the first two hex digits of an ID. */
export const SHARD_COUNT = 256;

/** What a store file's name ends in: `-a` entry, `-d` output, `-s` compute time. */
export type StoreFileKind = "a" | "d" | "s";

const STORE_FILE = /-[ads]$/;
const TEMPORARY_MARK = ".tmp-";

/**
 * The path of a store file.
 *
 * @param dir The store's directory.
 * @param id The ActionID (for `a` and `s`) or OutputID (for `d`), in hex.
 * @param kind The file's kind.
 * @returns `<dir>/<first two hex digits>/<id>-<kind>`.
 */
export function storeFilePath(dir: string, id: string, kind: StoreFileKind): string {
  return `${dir}/${id.slice(0, 2)}/${id}-${kind}`;
}

/**
 * The directory of one shard.
 *
 * @param dir The store's directory.
 * @param shard The shard's number, 0 to 255.
 * @returns `<dir>/<two hex digits>`.
 */
export function shardPath(dir: string, shard: number): string {
  return `${dir}/${shard.toString(16).padStart(2, "0")}`;
}

/**
 * Whether a file name is one of the store's entries, outputs or compute times.
 *
 * @param name A file name, without its directory.
 * @returns `true` for names ending in `-a`, `-d` or `-s`.
 */
export function isStoreFileName(name: string): boolean {
  return STORE_FILE.test(name);
}

/**
 * Whether a file name is a temporary file of an atomic write (finished or abandoned).
 *
 * @param name A file name, without its directory.
 * @returns `true` for names made by {@linkcode temporaryPath}.
 */
export function isTemporaryFileName(name: string): boolean {
  return name.includes(TEMPORARY_MARK);
}

let temporaryCounter = 0;

/**
 * A unique sibling name for an atomic write, no longer than the final name: a cache
 * directory whose path is near the system's limit (4,096 bytes on Linux) can hold every
 * file whose final path fits, its temporary files included. The name keeps the start
 * of the final one, then `.tmp-` and a part unique to this process and write; it ends in
 * none of `-a`, `-d` and `-s`, so no reader mistakes it for a store file.
 *
 * @param finalPath The file's final path.
 * @returns `<start of the final name>.tmp-<unique>`, of the final name's length or less.
 */
export function temporaryPath(finalPath: string): string {
  temporaryCounter++;
  const slash = finalPath.lastIndexOf("/");
  const name = finalPath.slice(slash + 1);
  const random = Math.floor(Math.random() * 0x100000000).toString(36);
  const unique = `${Deno.pid.toString(36)}${temporaryCounter.toString(36)}${random}`;
  const keep = Math.max(0, name.length - TEMPORARY_MARK.length - unique.length);
  return `${finalPath.slice(0, slash + 1)}${name.slice(0, keep)}${TEMPORARY_MARK}${unique}`;
}

/**
 * Calls `each` for every file of the store: entries, outputs, compute times and
 * temporary files, shard by shard.
 *
 * @param dir The store's directory.
 * @param each Called with each file's path and name.
 */
export function forEachStoreFile(dir: string, each: (path: string, name: string) => void): void {
  for (let shard = 0; shard < SHARD_COUNT; shard++) {
    const shardDir = shardPath(dir, shard);
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(shardDir)];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    for (const entry of entries) {
      if (entry.isFile && (isStoreFileName(entry.name) || isTemporaryFileName(entry.name))) {
        each(`${shardDir}/${entry.name}`, entry.name);
      }
    }
  }
}

/** What the local store holds. */
export interface StoreUsage {
  /** Action entries. */
  entries: number;
  /** Files of the store (entries, outputs, compute times and temporary files). */
  files: number;
  /** Their bytes. */
  bytes: number;
}

/**
 * Measures the local store: its entries, files and bytes.
 *
 * @param dir The store's directory.
 * @returns The usage.
 */
export function measureStore(dir: string): StoreUsage {
  const usage: StoreUsage = { entries: 0, files: 0, bytes: 0 };
  forEachStoreFile(dir, (path, name) => {
    usage.files++;
    if (name.endsWith("-a")) usage.entries++;
    try {
      usage.bytes += Deno.statSync(path).size;
    } catch {
      // removed meanwhile
    }
  });
  return usage;
}
