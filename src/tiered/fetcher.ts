/**
 * Fetching entries from the remote into the local store: one fetch per action however
 * many gets, companions and prefetches want it, every value checked by the local store
 * (its size, and its SHA-256 against its OutputID) before it is stored, a corrupt one
 * counted, said once and removed.
 *
 * Fetches are made for one of three purposes. A `demand` fetch is a get the go command
 * waits on: the local store answers it as soon as it can, its outcome is counted, and
 * its failures count against the circuit breaker; with single flight across the fleet
 * (`single_flight.ts`), a miss claims the action, or waits for the process that has. A `companion` fetch rides in the same
 * round trip as a demand fetch (see `companions.ts`): its failures count against the
 * breaker too, and its outcome is the companions' to count. A `prefetch` is background
 * work nobody waits on: stored off the event loop's thread, its failures rejected to the
 * prefetch, and never held against the breaker.
 *
 * @module
 */

import type { Hit, RemoteEntry, RemoteStore } from "../store.ts";
import type { Counted, Counters } from "../metrics.ts";
import { ClosedError, CorruptEntryError, messageOf } from "../errors.ts";
import type { TierContext } from "./tier_context.ts";
import type { SingleFlight } from "./single_flight.ts";

/** Actions remembered as missing remotely; a build has far fewer. */
const MAX_REMEMBERED_MISSES = 100_000;

/** Why an entry is fetched; see the module's documentation. */
export type FetchPurpose = "demand" | "companion" | "prefetch";

/** How one fetch ended, when the remote did not fail. */
type FetchResult =
  | { kind: "hit"; hit: Hit }
  | { kind: "miss" }
  | { kind: "corrupt" }
  /** The remote could not be asked: down, or still connecting past the deadline. */
  | { kind: "unavailable" }
  | { kind: "failed"; error: unknown };

/** Fetches remote entries into the local store, checked, one fetch per action. */
export class Fetcher implements Counted {
  #context: TierContext;
  #flight: SingleFlight | undefined;
  #fetches = new Map<string, Promise<FetchResult>>();
  /** Actions the remote did not have, this session: their uploads need not ask again. */
  #missedRemotely = new Set<string>();
  #counts = {
    demandRoundTrips: 0,
    demandJoined: 0,
    demandSkipped: 0,
    demandFound: 0,
    demandMisses: 0,
    demandErrors: 0,
    demandCorrupt: 0,
    demandWaitMillis: 0,
    corrupt: 0,
    bytesDownloaded: 0,
  };

  /**
   * Creates a fetcher.
   *
   * @param context The link, the local store and where to report.
   * @param flight Single flight across the fleet, for the gets the go command waits on;
   * none if absent.
   */
  constructor(context: TierContext, flight?: SingleFlight) {
    this.#context = context;
    this.#flight = flight;
  }

  /**
   * The fetcher's counters. Of the go command's gets that missed locally (`demand`),
   * each ends in exactly one of `demandFound`, `demandMisses`, `demandErrors`,
   * `demandCorrupt` and `demandSkipped` (not asked); each that asked made a round trip
   * of its own (`demandRoundTrips`) or joined a fetch in flight (`demandJoined`).
   * `demandWaitMillis` is the time they waited. `corrupt` and `bytesDownloaded` count
   * every fetch, whatever its purpose.
   *
   * @returns The counters.
   */
  counters(): Counters {
    return { ...this.#counts };
  }

  /**
   * Whether a fetch is in flight.
   *
   * @returns `true` while one is.
   */
  busy(): boolean {
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
   * a miss at once. A fetch already in flight (a prefetch, say) is joined; if it could
   * not get an answer (the prefetch's own failure, such as a manifest's wrong size), the
   * get fetches for itself. A remote failure is a miss; a failure to store locally is
   * the get's error.
   *
   * @param actionId The ActionID in hex.
   * @returns The hit, or `undefined` on a miss, at once or as a promise.
   */
  demand(actionId: string): Hit | undefined | Promise<Hit | undefined> {
    const counts = this.#counts;
    if (!this.#context.link.allowsOrProbe()) {
      counts.demandSkipped++;
      return undefined;
    }
    const started = this.#context.clock.now();
    const own = () => this.#shared(actionId, "demand");
    const pending = this.#fetches.get(actionId);
    const result = pending === undefined ? own() : pending.then((joined) => {
      if (joined.kind === "failed" || joined.kind === "unavailable") return own();
      counts.demandJoined++;
      return joined;
    }, own);
    return result.then((outcome) => {
      counts.demandWaitMillis += this.#context.clock.now() - started;
      switch (outcome.kind) {
        case "hit":
          counts.demandFound++;
          return outcome.hit;
        case "miss":
          counts.demandMisses++;
          if (this.#missedRemotely.size < MAX_REMEMBERED_MISSES) {
            this.#missedRemotely.add(actionId);
          }
          return undefined;
        case "corrupt":
          counts.demandCorrupt++;
          return undefined;
        case "unavailable":
          counts.demandSkipped++;
          return undefined;
        case "failed":
          counts.demandErrors++;
          return undefined;
      }
    });
  }

  /**
   * Fetches an entry into the local store for a companion or a prefetch, or joins the
   * fetch in flight for it.
   *
   * @param actionId The ActionID in hex.
   * @param purpose `companion` or `prefetch`.
   * @param maxBytes The largest entry wanted (a prefetch's claim); a larger one is
   * refused unread.
   * @returns The hit, or `undefined` when the remote has no valid entry, or could not be
   * asked. A companion's remote failure is `undefined` too; a prefetch's rejects.
   */
  async fetch(
    actionId: string,
    purpose: Exclude<FetchPurpose, "demand">,
    maxBytes?: number,
  ): Promise<Hit | undefined> {
    const outcome = await this.#shared(actionId, purpose, maxBytes);
    if (outcome.kind === "hit") return outcome.hit;
    if (outcome.kind === "failed" && purpose === "prefetch") throw outcome.error;
    return undefined;
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

  /** The fetch in flight for an action, or a new one. */
  #shared(actionId: string, purpose: FetchPurpose, maxBytes?: number): Promise<FetchResult> {
    const pending = this.#fetches.get(actionId);
    if (pending !== undefined) return pending;
    const fetch = this.#fetch(actionId, purpose, maxBytes).finally(() =>
      this.#fetches.delete(actionId)
    );
    this.#fetches.set(actionId, fetch);
    return fetch;
  }

  async #fetch(actionId: string, purpose: FetchPurpose, maxBytes?: number): Promise<FetchResult> {
    const { link, local } = this.#context;
    const remote = await link.untilConnectedOrDeadline();
    if (remote === undefined) return { kind: "unavailable" };
    if (purpose === "demand") this.#counts.demandRoundTrips++;
    let entry: RemoteEntry | undefined;
    try {
      const flight = this.#flight;
      entry = purpose === "demand" && flight !== undefined && flight.appliesTo(remote)
        ? await flight.get(remote, actionId)
        : await remote.get(
          actionId,
          purpose === "prefetch"
            ? { background: true, ...(maxBytes === undefined ? {} : { maxBytes }) }
            : undefined,
        );
      link.succeeded();
    } catch (error) {
      if (error instanceof CorruptEntryError) return this.#corrupt(remote, actionId, error);
      // Cut off by our own close: nothing failed, and nobody is waiting.
      if (error instanceof ClosedError || link.closed) return { kind: "unavailable" };
      if (purpose !== "prefetch") link.failed(error);
      return { kind: "failed", error };
    }
    if (entry === undefined) return { kind: "miss" };
    const { body, release, ...description } = entry;
    let stored: Hit;
    try {
      stored = await local.storeFetched(
        { actionId, ...description },
        body,
        purpose === "prefetch" ? "background" : "demand",
      );
    } catch (error) {
      if (error instanceof CorruptEntryError) return this.#corrupt(remote, actionId, error);
      throw error;
    } finally {
      // Stored or refused, the body is read no more: its memory goes now, not at a GC.
      release?.();
    }
    this.#counts.bytesDownloaded += entry.size;
    const hit: Hit = { ...stored, source: "remote" };
    if (entry.computeMillis !== undefined) hit.computeMillis = entry.computeMillis;
    return { kind: "hit", hit };
  }

  #corrupt(remote: RemoteStore, actionId: string, error: CorruptEntryError): FetchResult {
    this.#counts.corrupt++;
    this.#context.logger.warnOnce(
      "remote-corrupt",
      `${remote.description} returned a corrupt entry for action ${actionId} ` +
        `(${messageOf(error)}); it is treated as a miss and never served (further corrupt ` +
        "entries are counted in the metrics)",
    );
    if (!this.#context.readOnly) remote.delete(actionId).catch(() => {});
    return { kind: "corrupt" };
  }
}
