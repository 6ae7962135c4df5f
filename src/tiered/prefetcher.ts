/**
 * Prefetching from build manifests: fetch, in manifest order and in the background, the
 * entries the last comparable build used, so that the go command finds them locally
 * instead of waiting one round trip per get. The go command cannot ask early (each
 * compile's ActionID depends on its dependencies' outputs), so only history can.
 *
 * - A bounded window (entries and bytes in flight) keeps memory and the remote's load
 *   in check.
 * - What is already local, or already being fetched (a demand get got there first), is
 *   skipped; the fetch itself is shared with demand gets by the caller.
 * - When the build's gets diverge from the manifest (another Go version, other flags,
 *   a wrong scope), prefetching stops, and says why once.
 * - A manifest is written by whoever can write keys, so its sizes are claims: the budget
 *   counts the bytes actually fetched, each fetch refuses an entry larger than claimed,
 *   and the first entry whose size differs from its claim stops prefetching.
 * - A failure stops prefetching; it never counts against the demand path.
 *
 * @module
 */

import { MANIFEST_SIZE_LIMIT, type ManifestRecord } from "../manifest_format.ts";
import { EntryTooLargeError, messageOf } from "../errors.ts";
import { DEFAULT_PREFETCH_WINDOW, DEFAULT_PREFETCH_WINDOW_BYTES } from "./defaults.ts";

/** After this many demand gets, the share found in the manifest is judged. */
const DIVERGENCE_SAMPLE = 64;

/** Below this share of demand gets found in the manifest, prefetching stops. */
const DIVERGENCE_MIN_SHARE = 0.2;

/** Options for {@linkcode Prefetcher}. */
export interface PrefetcherOptions {
  /** What to fetch, in order. */
  records: readonly ManifestRecord[];
  /**
   * Fetches one entry into the local store, refusing one larger than `maxBytes` with an
   * `EntryTooLargeError` as soon as its size is known.
   *
   * @returns The entry's size, or `undefined` when the remote no longer has it. Rejects
   * on a failure, which stops prefetching.
   */
  fetch: (actionId: string, maxBytes: number) => Promise<number | undefined>;
  /** Whether an entry needs no fetch: already local, or already being fetched. */
  skip: (actionId: string) => boolean;
  /**
   * Entries in flight at most.
   *
   * @default {32}
   */
  window?: number;
  /**
   * Bytes in flight at most (beyond the first entry).
   *
   * @default {33554432} (32 MiB)
   */
  windowBytes?: number;
  /**
   * The most bytes to fetch, counted as fetched (not as the manifest claims).
   *
   * @default {Infinity}
   */
  maxBytes?: number;
  /** Called once when prefetching stops early, with the reason. */
  onStop?: (reason: string) => void;
  /**
   * Whether a failed fetch stops prefetching without a word, because someone else says
   * it (a remote that went down is the link's to report).
   */
  failsQuietly?: (error: unknown) => boolean;
}

/** What a prefetch did. */
export interface PrefetchMetrics {
  /** Entries the manifests named and that were not local. */
  planned: number;
  /** Entries fetched and stored locally. */
  fetched: number;
  /** Their bytes. */
  fetchedBytes: number;
  /** Of those, entries the go command then asked for. */
  used: number;
  /** Their bytes. */
  usedBytes: number;
  /** Entries the remote no longer had. */
  missing: number;
}

/** Fetches a manifest's entries in the background. */
export class Prefetcher {
  /** The counters. */
  readonly metrics: PrefetchMetrics = {
    planned: 0,
    fetched: 0,
    fetchedBytes: 0,
    used: 0,
    usedBytes: 0,
    missing: 0,
  };
  #records: readonly ManifestRecord[];
  #fetch: (actionId: string, maxBytes: number) => Promise<number | undefined>;
  #maxBytes: number;
  #skip: (actionId: string) => boolean;
  #window: number;
  #windowBytes: number;
  #onStop: (reason: string) => void;
  #failsQuietly: (error: unknown) => boolean;
  #next = 0;
  #inFlight = 0;
  #inFlightBytes = 0;
  #stopped: string | undefined;
  #planned: Set<string>;
  #fetched = new Map<string, number>();
  #demandGets = 0;
  #demandInManifest = 0;
  #whenFinished: (() => void)[] = [];

  /**
   * Prepares a prefetch; {@linkcode Prefetcher.start} starts it.
   *
   * @param options What to fetch and how.
   */
  constructor(options: PrefetcherOptions) {
    this.#records = options.records;
    this.#fetch = options.fetch;
    this.#skip = options.skip;
    this.#window = options.window ?? DEFAULT_PREFETCH_WINDOW;
    this.#windowBytes = options.windowBytes ?? DEFAULT_PREFETCH_WINDOW_BYTES;
    this.#maxBytes = options.maxBytes ?? Infinity;
    this.#onStop = options.onStop ?? (() => {});
    this.#failsQuietly = options.failsQuietly ?? (() => false);
    this.#planned = new Set(options.records.map((record) => record.actionId));
    this.metrics.planned = options.records.length;
  }

  /** Starts fetching. */
  start(): void {
    this.#pump();
  }

  /**
   * Whether work is in flight or queued.
   *
   * @returns `true` while any is.
   */
  busy(): boolean {
    return this.#stopped === undefined && (this.#inFlight > 0 || this.#next < this.#records.length);
  }

  /**
   * Waits until nothing is in flight and nothing more will start: every entry fetched
   * or skipped, or prefetching stopped.
   */
  finished(): Promise<void> {
    if (this.#isFinished()) return Promise.resolve();
    return new Promise((resolve) => this.#whenFinished.push(resolve));
  }

  #isFinished(): boolean {
    return this.#inFlight === 0 &&
      (this.#stopped !== undefined || this.#next >= this.#records.length);
  }

  #settleIfFinished(): void {
    if (this.#isFinished()) { for (const resolve of this.#whenFinished.splice(0)) resolve(); }
  }

  /**
   * Tells the prefetcher of a demand get, to count what it saved and to notice
   * divergence.
   *
   * @param actionId The ActionID the go command asked for.
   */
  noteDemand(actionId: string): void {
    const size = this.#fetched.get(actionId);
    if (size !== undefined) {
      this.#fetched.delete(actionId);
      this.metrics.used++;
      this.metrics.usedBytes += size;
    }
    if (this.#stopped !== undefined || this.#demandGets >= DIVERGENCE_SAMPLE) return;
    this.#demandGets++;
    if (this.#planned.has(actionId)) this.#demandInManifest++;
    if (
      this.#demandGets === DIVERGENCE_SAMPLE &&
      this.#demandInManifest < DIVERGENCE_SAMPLE * DIVERGENCE_MIN_SHARE
    ) {
      this.stop(
        `only ${this.#demandInManifest} of the build's first ${DIVERGENCE_SAMPLE} gets were in the manifest ` +
          "(another Go version, other flags or another build)",
      );
    }
  }

  /**
   * Stops prefetching; entries in flight finish.
   *
   * @param reason Why, for the one message.
   * @param quiet Say nothing (the build simply finished first).
   */
  stop(reason: string, quiet = false): void {
    if (this.#stopped !== undefined) return;
    this.#stopped = reason;
    if (!quiet && (this.#next < this.#records.length || this.#inFlight > 0)) this.#onStop(reason);
    this.#settleIfFinished();
  }

  #untrusted(record: ManifestRecord, size: number): string {
    return `the build manifest says ${record.size} bytes for action ${record.actionId}, ` +
      `which holds ${size}: its sizes are not trusted any further`;
  }

  #pump(): void {
    while (
      this.#stopped === undefined && this.#next < this.#records.length &&
      this.#inFlight < this.#window
    ) {
      const record = this.#records[this.#next]!;
      if (this.#inFlight > 0 && this.#inFlightBytes + record.size > this.#windowBytes) return;
      this.#next++;
      if (this.#skip(record.actionId)) continue;
      this.#inFlight++;
      this.#inFlightBytes += record.size;
      // A saturated claim only says "at least 4 GiB": the budget bounds it instead.
      const claim = record.size >= MANIFEST_SIZE_LIMIT ? Infinity : record.size;
      const allowed = Math.min(claim, this.#maxBytes - this.metrics.fetchedBytes);
      this.#fetch(record.actionId, allowed).then(
        (size) => {
          if (size === undefined) {
            this.metrics.missing++;
            return;
          }
          this.metrics.fetched++;
          this.metrics.fetchedBytes += size;
          this.#fetched.set(record.actionId, size);
          if (size !== record.size && claim !== Infinity) {
            this.stop(this.#untrusted(record, size));
          } else if (this.metrics.fetchedBytes >= this.#maxBytes) {
            this.stop("the prefetch budget is spent", true);
          }
        },
        (error: unknown) => {
          if (error instanceof EntryTooLargeError && error.limit === claim) {
            this.stop(this.#untrusted(record, error.size));
          } else if (error instanceof EntryTooLargeError) {
            this.stop("the prefetch budget is spent", true);
          } else {
            this.stop(`a fetch failed (${messageOf(error)})`, this.#failsQuietly(error));
          }
        },
      ).finally(() => {
        this.#inFlight--;
        this.#inFlightBytes -= record.size;
        this.#pump();
        this.#settleIfFinished();
      });
    }
  }
}
