/**
 * Stdout companions: after a compile hit, the go command asks for the compile's
 * `stdout` entry (`Subkey(ActionID, "stdout")`) in a second get, one round trip later.
 * On a remote fetch of an action, its companion is fetched in the same round trip (both
 * requests are pipelined) and kept locally, so that the go command's next get is local.
 * Companions are counted as fetched and used; when few are used (a Go version that no
 * longer asks for them, or gets that are not compiles), fetching them stops.
 *
 * @module
 */

import type { Hit, LocalStore } from "../store.ts";
import type { Counted, Counters } from "../metrics.ts";
import { loadSha256 } from "../util/sha256.ts";
import { subkey } from "./subkey.ts";
import type { Fetcher } from "./fetcher.ts";
import type { RemoteLink } from "./remote_link.ts";

/** Companions fetched before judging whether they pay. */
const TRIAL = 64;

/** Below this share of companions used, fetching them stops. */
const MIN_USE = 0.2;

/** Options for {@linkcode Companions}. */
export interface CompanionsOptions {
  /** Whether to fetch companions at all. */
  enabled: boolean;
  /** Where companions are looked up before fetching. */
  local: LocalStore;
  /** Fetches them. */
  fetcher: Fetcher;
  /** Says whether the remote may be asked. */
  link: RemoteLink;
}

/** Fetches each demand fetch's stdout companion alongside it. */
export class Companions implements Counted {
  #enabled: boolean;
  #local: LocalStore;
  #fetcher: Fetcher;
  #link: RemoteLink;
  /** Companions stored locally ahead of the go command's get for them. */
  #stored = new Set<string>();
  #fetched = 0;
  #used = 0;

  /**
   * Creates the companion fetcher.
   *
   * @param options Whether to fetch them, and the tier's parts.
   */
  constructor(options: CompanionsOptions) {
    this.#enabled = options.enabled;
    this.#local = options.local;
    this.#fetcher = options.fetcher;
    this.#link = options.link;
  }

  /**
   * The counters: companions stored with their compile (`companionsFetched`), and of
   * those, the ones the go command then asked for (`companionsUsed`).
   *
   * @returns The counters.
   */
  counters(): Counters {
    return { companionsFetched: this.#fetched, companionsUsed: this.#used };
  }

  /**
   * Notes a get of the go command's, to count the companions it used.
   *
   * @param actionId The ActionID the go command asked for.
   */
  noteGet(actionId: string): void {
    if (this.#stored.delete(actionId)) this.#used++;
  }

  /**
   * Fetches the companion of an action being fetched on demand, and keeps it if the
   * action itself was a hit.
   *
   * @param actionId The action being fetched.
   * @param fetch Its fetch.
   */
  follow(actionId: string, fetch: Promise<Hit | undefined>): void {
    if (!this.#enabled || (this.#fetched >= TRIAL && this.#used < this.#fetched * MIN_USE)) {
      return;
    }
    loadSha256().then((sha256) => {
      const companion = subkey(sha256, actionId, "stdout");
      if (this.#fetcher.isFetching(companion) || !this.#link.allows()) return;
      if (this.#local.has(companion)) return;
      const companionFetch = this.#fetcher.fetch(companion, "companion");
      Promise.all([fetch, companionFetch]).then(([hit, companionHit]) => {
        if (hit !== undefined && companionHit !== undefined) {
          this.#fetched++;
          this.#stored.add(companion);
        }
      }, () => {});
    }, () => {});
  }
}
