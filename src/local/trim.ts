/**
 * Trimming the local store, the way the go command trims its own cache (which it never
 * does while GOCACHEPROG is set): files unused for longer than the trim age go, at most
 * one pass a day, marked in a file in the store. An optional size cap then removes the
 * least recently used files beyond it.
 *
 * - **Use time** is the file's mtime, refreshed at most once an hour on a hit (by the
 *   disk store), as the go command does.
 * - **Never in use:** a file used in the last hour has an mtime at most two hours old
 *   (its mtime is refreshed only when over an hour old), so nothing younger than two
 *   hours is ever removed.
 * - **Size cap shard by shard:** files are spread evenly over the 256 shard directories
 *   by their SHA-256 names, so each shard is allowed 1/256 of the cap, least recently
 *   used out first, plus whatever the shards before it left unused. That holds the whole
 *   store under the cap, within about one file of it, and needs no global index.
 * - **Never slows a build much:** a pass at the end of a go command stops after a time
 *   budget and the next go command resumes where it stopped (the marker records the next
 *   shard), like the go command's own trim at the end of a build. `gocacheprog trim`
 *   runs a whole pass.
 * - **Concurrent trims:** a lock file lets one process trim at a time; removing a file
 *   that another process removed first is not an error.
 *
 * @module
 */

import {
  isStoreFileName,
  isTemporaryFileName,
  SHARD_COUNT,
  shardPath,
  temporaryPath,
} from "./store_files.ts";

/** Five days, as the go command: local entries unused for longer are trimmed. */
export const DEFAULT_TRIM_AGE_MILLIS = 5 * 24 * 3600 * 1000;

/** The marker file, in the store's directory. */
export const TRIM_STATE_FILE = "gocacheprog-trim.json";
const LOCK_FILE = "gocacheprog-trim.lock";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Files younger than this are never removed: see "Never in use" above. */
const IN_USE_MILLIS = 2 * HOUR;
/** Temporary files left by a crashed writer are removed after this. */
const STALE_TEMPORARY_MILLIS = DAY;
/** A lock older than this was left by a process that died. */
const STALE_LOCK_MILLIS = 10 * 60_000;

/** Options for {@linkcode trimStore}. */
export interface TrimOptions {
  /** Remove files unused for longer than this, in milliseconds. */
  ageMillis: number;
  /** Keep the store under this many bytes. */
  maxSizeBytes?: number;
  /** Stop after this long and let the next pass resume; unbounded when absent. */
  budgetMillis?: number;
  /** Run even if a pass completed less than a day ago. */
  force?: boolean;
  /** The current time, in milliseconds since the epoch (tests fake it). */
  now?: number;
}

/** What a trim did. */
export interface TrimResult {
  /** Whether it ran (not: trimmed less than a day ago, or another process is trimming). */
  ran: boolean;
  /** Whether the pass reached the last shard. */
  complete: boolean;
  /** Files removed. */
  filesRemoved: number;
  /** Bytes removed. */
  bytesRemoved: number;
  /** Bytes left in the shards scanned. */
  bytesKept: number;
  /** Of the files kept, those used in the last two hours, which a trim never removes. */
  filesKeptInUse: number;
  /** Their bytes. */
  bytesKeptInUse: number;
  /** Shards scanned. */
  shardsScanned: number;
}

interface TrimState {
  /** When the last complete pass finished, in milliseconds since the epoch. */
  lastComplete: number;
  /** The shard a pass in progress resumes at; 0 when none is in progress. */
  nextShard: number;
  /** Bytes of the size cap that the shards already trimmed in this pass left unused. */
  carry: number;
}

/**
 * Runs a trim pass over the store, if one is due.
 *
 * @param dir The store's directory.
 * @param options The age, the cap and the budget.
 * @returns What was done.
 */
export function trimStore(dir: string, options: TrimOptions): TrimResult {
  const now = options.now ?? Date.now();
  const result: TrimResult = {
    ran: false,
    complete: false,
    filesRemoved: 0,
    bytesRemoved: 0,
    bytesKept: 0,
    filesKeptInUse: 0,
    bytesKeptInUse: 0,
    shardsScanned: 0,
  };
  const state = readState(dir);
  const due = options.force === true || state.nextShard > 0 || now - state.lastComplete >= DAY ||
    now < state.lastComplete - HOUR; // a clock set back: trim rather than never
  if (!due || !takeLock(dir, now)) return result;
  try {
    result.ran = true;
    const started = performance.now();
    let shard = options.force === true ? 0 : state.nextShard;
    let carry = shard === 0 ? 0 : state.carry;
    while (shard < SHARD_COUNT) {
      const allowance = options.maxSizeBytes === undefined
        ? undefined
        : options.maxSizeBytes / SHARD_COUNT + carry;
      const kept = trimShard(
        shardPath(dir, shard),
        options,
        now,
        allowance,
        result,
      );
      if (allowance !== undefined) carry = allowance - kept; // negative if in-use files exceeded it
      result.shardsScanned++;
      shard++;
      // At least one shard per pass, so that even a tiny budget makes progress.
      if (
        options.budgetMillis !== undefined && performance.now() - started > options.budgetMillis
      ) break;
    }
    result.complete = shard === SHARD_COUNT;
    const next: TrimState = result.complete
      ? { lastComplete: now, nextShard: 0, carry: 0 }
      : { lastComplete: state.lastComplete, nextShard: shard, carry };
    writeState(dir, next);
  } finally {
    Deno.removeSync(`${dir}/${LOCK_FILE}`);
  }
  return result;
}

interface FileInfo {
  path: string;
  size: number;
  mtime: number;
}

/** Trims one shard directory; returns the bytes it keeps. */
function trimShard(
  shardDir: string,
  options: TrimOptions,
  now: number,
  allowance: number | undefined,
  result: TrimResult,
): number {
  let names: string[];
  try {
    names = [...Deno.readDirSync(shardDir)].filter((entry) => entry.isFile).map((entry) =>
      entry.name
    );
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
  const ageCutoff = now - Math.max(options.ageMillis, IN_USE_MILLIS) - HOUR;
  const kept: FileInfo[] = [];
  for (const name of names) {
    const temporary = isTemporaryFileName(name);
    if (!temporary && !isStoreFileName(name)) continue; // not ours: leave it alone
    const path = `${shardDir}/${name}`;
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch {
      continue; // removed meanwhile
    }
    const mtime = info.mtime?.getTime() ?? now;
    const stale = temporary ? mtime < now - STALE_TEMPORARY_MILLIS : mtime < ageCutoff;
    if (stale) remove(path, info.size, result);
    else if (!temporary) kept.push({ path, size: info.size, mtime });
  }
  let shardBytes = kept.reduce((sum, file) => sum + file.size, 0);
  let removedOldest = 0;
  if (allowance !== undefined && shardBytes > allowance) {
    kept.sort((a, b) => a.mtime - b.mtime);
    for (const file of kept) {
      if (shardBytes <= allowance) break;
      if (file.mtime > now - IN_USE_MILLIS) break; // the rest are in use
      remove(file.path, file.size, result);
      shardBytes -= file.size;
      removedOldest++;
    }
  }
  result.bytesKept += shardBytes;
  // What stays although it is due (the cap, or the age): used in the last two hours.
  for (const file of allowance === undefined ? kept : kept.slice(removedOldest)) {
    if (file.mtime > now - IN_USE_MILLIS) {
      result.filesKeptInUse++;
      result.bytesKeptInUse += file.size;
    }
  }
  return shardBytes;
}

function remove(path: string, size: number, result: TrimResult): void {
  try {
    Deno.removeSync(path);
    result.filesRemoved++;
    result.bytesRemoved += size;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error; // another trim was first
  }
}

function readState(dir: string): TrimState {
  try {
    const state = JSON.parse(Deno.readTextFileSync(`${dir}/${TRIM_STATE_FILE}`));
    if (typeof state.lastComplete === "number" && Number.isInteger(state.nextShard)) {
      return {
        lastComplete: state.lastComplete,
        nextShard: Math.min(Math.max(state.nextShard, 0), 255),
        carry: typeof state.carry === "number" ? state.carry : 0,
      };
    }
  } catch {
    // no marker yet, or a damaged one: a pass is due
  }
  return { lastComplete: 0, nextShard: 0, carry: 0 };
}

function writeState(dir: string, state: TrimState): void {
  const path = `${dir}/${TRIM_STATE_FILE}`;
  const temporary = temporaryPath(path);
  Deno.writeTextFileSync(temporary, JSON.stringify(state) + "\n");
  Deno.renameSync(temporary, path);
}

function takeLock(dir: string, now: number): boolean {
  const path = `${dir}/${LOCK_FILE}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      Deno.writeTextFileSync(path, `${Deno.pid}\n`, { createNew: true });
      return true;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      try {
        const age = now - (Deno.statSync(path).mtime?.getTime() ?? now);
        if (age < STALE_LOCK_MILLIS) return false;
        Deno.removeSync(path); // left by a process that died
      } catch {
        // gone meanwhile: try again
      }
    }
  }
  return false;
}
