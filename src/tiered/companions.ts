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
import { loadSha256 } from "../util/sha256.ts";
import { subkey } from "./subkey.ts";
import type { Fetcher } from "./fetcher.ts";
import type { RemoteLink } from "./remote_link.ts";
import type { TierMetrics } from "./tier_metrics.ts";

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
  /** The tier's counters: companions fetched and used. */
  metrics: TierMetrics;
}

/** Fetches each remote fetch's stdout companion alongside it. */
export class Companions {
  #enabled: boolean;
  #local: LocalStore;
  #fetcher: Fetcher;
  #link: RemoteLink;
  #metrics: TierMetrics;
  /** Companions stored locally ahead of the go command's get for them. */
  #stored = new Set<string>();

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
    this.#metrics = options.metrics;
  }

  /**
   * Notes a get of the go command's, to count the companions it used.
   *
   * @param actionId The ActionID the go command asked for.
   */
  noteGet(actionId: string): void {
    if (this.#stored.delete(actionId)) this.#metrics.companionsUsed++;
  }

  /**
   * Fetches the companion of an action being fetched on demand, and keeps it if the
   * action itself was a hit.
   *
   * @param actionId The action being fetched.
   * @param fetch Its fetch.
   */
  follow(actionId: string, fetch: Promise<Hit | undefined>): void {
    const metrics = this.#metrics;
    if (
      !this.#enabled ||
      (metrics.companionsFetched >= TRIAL &&
        metrics.companionsUsed < metrics.companionsFetched * MIN_USE)
    ) {
      return;
    }
    loadSha256().then((sha256) => {
      const companion = subkey(sha256, actionId, "stdout");
      if (this.#fetcher.isFetching(companion) || !this.#link.allows()) return;
      const local = this.#local.get(companion);
      if (local instanceof Promise || local !== undefined) return;
      const companionFetch = this.#fetcher.fetch(companion);
      Promise.all([fetch, companionFetch]).then(([hit, companionHit]) => {
        if (hit !== undefined && companionHit !== undefined) {
          metrics.companionsFetched++;
          this.#stored.add(companion);
        }
      }, () => {});
    }, () => {});
  }
}
