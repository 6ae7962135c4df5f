/**
 * Fetching entries from the remote into the local store: one fetch per action however
 * many gets and prefetches want it, every value verified (size, and SHA-256 equal to its
 * OutputID) before it is stored, a corrupt one counted, said once and removed.
 *
 * A demand fetch (a get the go command waits on) writes the output with synchronous
 * calls, which answer sooner, and is answered before the action entry is written. A
 * background fetch (a prefetch) hashes and writes on Deno's thread pool, so that the go
 * command's requests are not held behind it (except in the `prefetch` command, which
 * serves no go command), and its failures are the prefetch's own: they never count
 * against the circuit breaker.
 *
 * @module
 */

import type { Hit, LocalStore, RemoteEntry, RemoteStore } from "../store.ts";
import { CorruptEntryError } from "../errors.ts";
import type { Logger } from "../util/log.ts";
import { loadSha256, sha256HexOffThread } from "../util/sha256.ts";
import type { RemoteLink } from "./remote_link.ts";
import type { TierMetrics } from "./tier_metrics.ts";

/** Actions remembered as missing remotely; a build has far fewer. */
const MAX_REMEMBERED_MISSES = 100_000;

/** How one fetch is made. */
export interface FetchOptions {
  /**
   * Background work (a prefetch): counted apart, hashed and written off the event loop's
   * thread, its failures rejected rather than counted against the breaker.
   *
   * @default {false}
   */
  background?: boolean;
  /** The largest entry wanted (a prefetch's claim); a larger one is refused unread. */
  maxBytes?: number;
}

/** Options for {@linkcode Fetcher}. */
export interface FetcherOptions {
  /** The link to the remote. */
  link: RemoteLink;
  /** Where fetched entries are stored. */
  local: LocalStore;
  /** The tier's counters. */
  metrics: TierMetrics;
  /** Where the one corrupt-entry warning goes. */
  logger: Logger;
  /** Never write to the remote, not even to delete a corrupt value. */
  readOnly: boolean;
  /**
   * Hash and write background fetches on the event loop's thread, as demand fetches
   * are: for a process that serves no go command (the `prefetch` command), where
   * nothing waits on that thread and its synchronous calls finish sooner (hashing at
   * about 1.7 GB/s against 1.1, files created in about half the time).
   *
   * @default {false}
   */
  prefetchOnEventLoop?: boolean;
}

/** Fetches remote entries into the local store, verified, one fetch per action. */
export class Fetcher {
  #link: RemoteLink;
  #local: LocalStore;
  #metrics: TierMetrics;
  #logger: Logger;
  #readOnly: boolean;
  #prefetchOnEventLoop: boolean;
  #fetches = new Map<string, Promise<Hit | undefined>>();
  /** Actions the remote did not have, this session: their uploads need not ask again. */
  #missedRemotely = new Set<string>();

  /**
   * Creates a fetcher.
   *
   * @param options The link, the local store and where to report.
   */
  constructor(options: FetcherOptions) {
    this.#link = options.link;
    this.#local = options.local;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#readOnly = options.readOnly;
    this.#prefetchOnEventLoop = options.prefetchOnEventLoop ?? false;
  }

  /** Whether a fetch is in flight. */
  get active(): boolean {
    return this.#fetches.size > 0;
  }

  /**
   * Whether an action is being fetched.
   *
   * @param actionId The ActionID in hex.
   * @returns `true` while its fetch is in flight.
   */
  isFetching(actionId: string): boolean {
    return this.#fetches.has(actionId);
  }

  /**
   * Fetches for a get the go command waits on. While the remote may not be asked, it is
   * a miss at once. A fetch already in flight (a prefetch, say) is joined; if it fails
   * (the prefetch's own failure, such as a manifest's wrong size), the get fetches for
   * itself.
   *
   * @param actionId The ActionID in hex.
   * @returns The hit, or `undefined` on a miss, at once or as a promise.
   */
  demand(actionId: string): Hit | undefined | Promise<Hit | undefined> {
    if (!this.#link.allowsOrProbe()) {
      this.#metrics.skipped++;
      return undefined;
    }
    const pending = this.#fetches.get(actionId);
    if (pending !== undefined) return pending.catch(() => this.fetch(actionId));
    return this.fetch(actionId);
  }

  /**
   * Fetches an entry into the local store, or joins the fetch in flight for it.
   *
   * @param actionId The ActionID in hex.
   * @param options `background` for a prefetch (counted apart, its hash and writes off
   * the event loop's thread, and its failures rejected rather than counted against the
   * breaker), and the largest entry wanted.
   * @returns The hit, or `undefined` when the remote does not have a valid entry.
   */
  fetch(actionId: string, options: FetchOptions = {}): Promise<Hit | undefined> {
    const pending = this.#fetches.get(actionId);
    if (pending !== undefined) return pending;
    const fetch = this.#fetch(actionId, options).finally(() => this.#fetches.delete(actionId));
    this.#fetches.set(actionId, fetch);
    return fetch;
  }

  /**
   * Tells whether the remote answered a miss for this action in this session, and
   * forgets it: an upload of it can then skip asking whether the remote holds it.
   *
   * @param actionId The ActionID in hex.
   * @returns `true` if the remote missed it.
   */
  takeRemoteMiss(actionId: string): boolean {
    return this.#missedRemotely.delete(actionId);
  }

  async #fetch(actionId: string, options: FetchOptions): Promise<Hit | undefined> {
    const background = options.background ?? false;
    const remote = await this.#link.acquire();
    if (remote === undefined) {
      if (!background) this.#metrics.skipped++;
      return undefined;
    }
    const metrics = this.#metrics;
    const started = performance.now();
    let entry: RemoteEntry | undefined;
    try {
      entry = await remote.get(
        actionId,
        background
          ? {
            background,
            ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
          }
          : undefined,
      );
      this.#link.succeeded();
    } catch (error) {
      metrics.remoteMillis += performance.now() - started;
      if (error instanceof CorruptEntryError) {
        this.#corrupt(remote, actionId, error.message);
        return undefined;
      }
      if (background) throw error;
      metrics.remoteErrors++;
      this.#link.failed(error);
      return undefined;
    }
    metrics.remoteMillis += performance.now() - started;
    if (entry === undefined) {
      if (background) return undefined;
      metrics.remoteMisses++;
      if (this.#missedRemotely.size < MAX_REMEMBERED_MISSES) this.#missedRemotely.add(actionId);
      return undefined;
    }
    const offThread = background && !this.#prefetchOnEventLoop;
    const problem = await verify(entry, offThread);
    if (problem !== undefined) {
      this.#corrupt(remote, actionId, problem);
      return undefined;
    }
    const stored = await this.#store(actionId, entry, offThread);
    if (!background) metrics.remoteHits++;
    metrics.bytesDownloaded += entry.size;
    return {
      ...stored,
      source: "remote",
      ...(entry.computeMillis === undefined ? {} : { computeMillis: entry.computeMillis }),
    };
  }

  /** Writes a verified entry to the local store, off the event loop's thread or not. */
  async #store(actionId: string, entry: RemoteEntry, offThread: boolean): Promise<Hit> {
    const request = {
      actionId,
      outputId: entry.outputId,
      size: entry.size,
      timeNanos: entry.timeNanos,
      ...(entry.computeMillis === undefined ? {} : { computeMillis: entry.computeMillis }),
    };
    if (offThread) return await this.#local.storeInBackground(request, entry.body);
    return await this.#local.storeForGet(request, entry.body);
  }

  #corrupt(remote: RemoteStore, actionId: string, problem: string): void {
    this.#metrics.corrupt++;
    this.#logger.warnOnce(
      "remote-corrupt",
      `${remote.description} returned a corrupt entry for action ${actionId} (${problem}); ` +
        "it is treated as a miss and never served (further corrupt entries are counted in " +
        "the metrics)",
    );
    if (!this.#readOnly) remote.delete(actionId).catch(() => {});
  }
}

/**
 * Checks a remote entry against itself; returns what is wrong, or `undefined`. The hash
 * runs off the event loop's thread when asked.
 */
async function verify(entry: RemoteEntry, offThread: boolean): Promise<string | undefined> {
  if (entry.body.length !== entry.size) {
    return `its body is ${entry.body.length} bytes, not ${entry.size}`;
  }
  let digest: string;
  if (offThread) {
    digest = await sha256HexOffThread(entry.body);
  } else {
    const hash = (await loadSha256())();
    hash.update(entry.body);
    digest = hash.digestHex();
  }
  return digest === entry.outputId ? undefined : "its body's SHA-256 is not its OutputID";
}
