/**
 * Entry files put off so as to answer a remote hit sooner: the output is in place and the
 * go command has its answer, and the entry's files are written once nothing else waits
 * (or when too many are waiting, or at close). Until then the store answers for those
 * actions from here.
 *
 * @module
 */

import type { Hit } from "../store.ts";
import { type EntryWrites, writeEntrySync } from "./entry_files.ts";

/** Entries that may wait at most: without an engine that says when it is idle, a few do. */
export const MAX_DEFERRED_ENTRIES = 64;

/** Entries whose files are yet to be written, by ActionID, in order. */
export class DeferredEntries {
  #entries = new Map<string, EntryWrites>();

  /**
   * The hit of an entry waiting to be written.
   *
   * @param actionId The ActionID in hex.
   * @returns A copy of its hit, or `undefined` when none waits.
   */
  get(actionId: string): Hit | undefined {
    const entry = this.#entries.get(actionId);
    return entry === undefined ? undefined : { ...entry.hit };
  }

  /**
   * Whether an entry waits to be written.
   *
   * @param actionId The ActionID in hex.
   * @returns `true` when one does.
   */
  has(actionId: string): boolean {
    return this.#entries.has(actionId);
  }

  /**
   * Puts an entry's writes off; writes them all when too many wait.
   *
   * @param actionId The ActionID in hex.
   * @param entry Its files.
   */
  add(actionId: string, entry: EntryWrites): void {
    this.#entries.set(actionId, entry);
    if (this.#entries.size > MAX_DEFERRED_ENTRIES) this.flush();
  }

  /**
   * Forgets an entry without writing it: a put of the same action wrote a newer one.
   *
   * @param actionId The ActionID in hex.
   */
  drop(actionId: string): void {
    this.#entries.delete(actionId);
  }

  /** Writes every waiting entry, synchronously. */
  flush(): void {
    for (const [actionId, entry] of this.#entries) {
      this.#entries.delete(actionId);
      try {
        writeEntrySync(entry);
      } catch {
        // the output is in place; a later process misses and fetches it again
      }
    }
  }
}
