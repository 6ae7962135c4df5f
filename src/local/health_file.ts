/**
 * What the go processes of one job learn together about their remote, in a small file
 * in the cache directory: "this remote was unreachable, until about this time". A CI job
 * runs dozens of go commands; without it, each would spend a deadline finding a frozen
 * remote frozen. With it, the next go command goes on from local disk at once and
 * connects in the background, and the first one that finds the remote answering again
 * removes the file.
 *
 * The file is written whole and renamed into place, so a reader sees an old state or a
 * new one, never half of one; a damaged or missing file means "nothing known".
 *
 * @module
 */

import { temporaryPath } from "./store_files.ts";

/** The file's name, in the cache directory. */
export const HEALTH_FILE = "gocacheprog-remote-down.json";

/**
 * How long a remote found unreachable is taken to be so by the job's other go commands.
 * Each of them still connects in the background, and the first that succeeds clears it,
 * so this bounds only how long a stale file can matter.
 */
export const DOWN_MEMORY_MILLIS = 10 * 60_000;

/** A remote's health as the go processes sharing a cache directory know it. */
export class HealthFile {
  #path: string;
  #remote: string;
  #now: () => number;

  /**
   * Opens the health record of one remote in a cache directory.
   *
   * @param dir The cache directory.
   * @param remote Which remote (its addresses): another remote's record is not this one's.
   * @param now The wall-clock time in milliseconds; `Date.now` unless given.
   */
  constructor(dir: string, remote: string, now: () => number = Date.now) {
    this.#path = `${dir}/${HEALTH_FILE}`;
    this.#remote = remote;
    this.#now = now;
  }

  /**
   * Whether another process found this remote unreachable, recently.
   *
   * @returns `true` while the record says so.
   */
  knownDown(): boolean {
    let record: unknown;
    try {
      record = JSON.parse(Deno.readTextFileSync(this.#path));
    } catch {
      return false; // none, or damaged: nothing known
    }
    if (typeof record !== "object" || record === null) return false;
    const { remote, downUntil } = record as Record<string, unknown>;
    return remote === this.#remote && typeof downUntil === "number" &&
      downUntil > this.#now();
  }

  /**
   * Records that the remote is unreachable.
   *
   * @param reason Why, for whoever reads the file.
   */
  markDown(reason: string): void {
    const record = { remote: this.#remote, downUntil: this.#now() + DOWN_MEMORY_MILLIS, reason };
    const temporary = temporaryPath(this.#path);
    try {
      Deno.writeTextFileSync(temporary, JSON.stringify(record) + "\n");
      Deno.renameSync(temporary, this.#path);
    } catch {
      // A hint for the other processes only; the build does not depend on it.
      try {
        Deno.removeSync(temporary);
      } catch {
        // never written
      }
    }
  }

  /** Records that the remote answered: removes this remote's record, if there is one. */
  markUp(): void {
    if (!this.knownDownOrExpired()) return;
    try {
      Deno.removeSync(this.#path);
    } catch {
      // removed meanwhile
    }
  }

  /** Whether this remote has a record, current or not. */
  knownDownOrExpired(): boolean {
    try {
      return JSON.parse(Deno.readTextFileSync(this.#path)).remote === this.#remote;
    } catch {
      return false;
    }
  }
}
