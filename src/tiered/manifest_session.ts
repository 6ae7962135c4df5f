/**
 * One go command's use of build manifests: at start, read the manifests of this build's
 * scopes (one round trip) and prefetch what is not local; meanwhile, record what the
 * go command hits and puts; at close, write that record to this build's manifests.
 * The manifest format, the scopes and the choice of entries are in `manifest.ts`; the
 * prefetch engine is in `prefetcher.ts`.
 *
 * @module
 */

import type { LocalStore, RemoteStore } from "../store.ts";
import { messageOf } from "../errors.ts";
import type { Logger } from "../util/log.ts";
import { sha256HexOfText } from "../util/sha256.ts";
import {
  decodeManifest,
  encodeManifestHeader,
  encodeManifestRecords,
  type Manifest,
  ManifestRecorder,
  type ManifestScopes,
  selectPrefetch,
} from "./manifest.ts";
import { Prefetcher } from "./prefetcher.ts";
import type { Fetcher } from "./fetcher.ts";
import type { RemoteLink } from "./remote_link.ts";
import type { TierMetrics } from "./tier_metrics.ts";

/** Build manifests: where they are, whether to write them, and how much to prefetch. */
export interface ManifestOptions {
  /** The build type and the scopes to read and write. */
  scopes: ManifestScopes;
  /** Write this build's manifest at close (never in read-only mode). */
  write: boolean;
  /** The most bytes to prefetch; 0 turns prefetching off. */
  prefetchMaxBytes: number;
}

/** Options for {@linkcode ManifestSession}. */
export interface ManifestSessionOptions {
  /** Where manifests are, and what to do with them. */
  manifests: ManifestOptions;
  /** What is already local is not prefetched. */
  local: LocalStore;
  /** Fetches prefetched entries, sharing fetches with demand gets. */
  fetcher: Fetcher;
  /** Says whether the remote may be written to at close. */
  link: RemoteLink;
  /** The tier's counters: the prefetch's are copied into it. */
  metrics: TierMetrics;
  /** Where warnings go. */
  logger: Logger;
  /** Never write manifests. */
  readOnly: boolean;
}

/** The manifest names of a build: its own scope's, its base's and the default's. */
interface ManifestNames {
  own?: string;
  base?: string;
  default?: string;
}

/** Reads manifests and prefetches at start, records and writes at close. */
export class ManifestSession {
  #options: ManifestOptions;
  #local: LocalStore;
  #fetcher: Fetcher;
  #link: RemoteLink;
  #metrics: TierMetrics;
  #logger: Logger;
  #readOnly: boolean;
  #recorder = new ManifestRecorder();
  #prefetcher: Prefetcher | undefined;
  /** Settles once the manifests have been read and the prefetch, if any, started. */
  #starting: Promise<void> = Promise.resolve();
  #stopped = false;
  #startedAt = Date.now();

  /**
   * Creates a session; {@linkcode ManifestSession.start} starts the prefetch.
   *
   * @param options The manifests and the tier's parts.
   */
  constructor(options: ManifestSessionOptions) {
    this.#options = options.manifests;
    this.#local = options.local;
    this.#fetcher = options.fetcher;
    this.#link = options.link;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#readOnly = options.readOnly;
  }

  /**
   * Records a hit or a put for this build's manifest.
   *
   * @param actionId The ActionID in hex.
   * @param size The entry's size.
   */
  note(actionId: string, size: number): void {
    this.#recorder.note(actionId, size);
  }

  /**
   * Tells the prefetch of a get of the go command's.
   *
   * @param actionId The ActionID the go command asked for.
   */
  noteDemand(actionId: string): void {
    this.#prefetcher?.noteDemand(actionId);
  }

  /**
   * Reads the manifests and starts prefetching what is not local, in the background.
   *
   * @param remote The connected remote.
   */
  start(remote: RemoteStore): void {
    this.#starting = this.#startPrefetch(remote);
  }

  /** Whether the prefetch has work in flight or queued. */
  get active(): boolean {
    return this.#prefetcher?.active ?? false;
  }

  /** Waits until the manifests have been read and the prefetch, if any, has finished. */
  async finished(): Promise<void> {
    await this.#starting;
    await this.#prefetcher?.finished();
  }

  /** Stops prefetching (quietly: the go command finished first). */
  stop(): void {
    this.#stopped = true;
    this.#prefetcher?.stop("the go command finished", true);
  }

  /** Copies the prefetch's counters into the tier's. */
  collectMetrics(): void {
    const prefetch = this.#prefetcher?.metrics;
    if (prefetch === undefined) return;
    const metrics = this.#metrics;
    metrics.prefetchPlanned = prefetch.planned;
    metrics.prefetched = prefetch.fetched;
    metrics.prefetchedBytes = prefetch.fetchedBytes;
    metrics.prefetchUsed = prefetch.used;
    metrics.prefetchUsedBytes = prefetch.usedBytes;
  }

  /**
   * Writes what this go command used to its manifests: its own scope's, and the
   * default's on the default branch. Never in read-only mode, and never to a remote
   * that may not be asked.
   */
  async write(): Promise<void> {
    const options = this.#options;
    const remote = this.#link.remote;
    const records = this.#recorder.records;
    if (
      !options.write || this.#readOnly || records.length === 0 ||
      remote?.writeManifest === undefined || this.#link.state !== "up"
    ) {
      return;
    }
    const names = await this.#names();
    // On the default branch its own scope is the default's: one manifest, written once.
    const targets = [
      ...new Set([names.own, options.scopes.writesDefault ? names.default : undefined]),
    ].filter((name): name is string => name !== undefined);
    if (targets.length === 0) return;
    const jobIdentity = options.scopes.jobId ?? `${Deno.pid}-${this.#startedAt}`;
    const jobHash = (await sha256HexOfText(jobIdentity)).slice(0, 32);
    const header = encodeManifestHeader(jobHash, Date.now());
    const body = encodeManifestRecords(records);
    for (const name of targets) {
      await remote.writeManifest(name, { jobHash, header, records: body }).catch((error) =>
        this.#logger.warnOnce(
          "manifest-write",
          `cannot write the build manifest: ${messageOf(error)}`,
        )
      );
    }
  }

  /** The names of this build's manifests: its own scope's, its base's, the default's. */
  async #names(): Promise<ManifestNames> {
    const scopes = this.#options.scopes;
    const type = (await sha256HexOfText(scopes.buildType)).slice(0, 16);
    const names: ManifestNames = {};
    if (scopes.own !== undefined) names.own = `${type}:${scopes.own}`;
    if (scopes.base !== undefined) names.base = `${type}:${scopes.base}`;
    if (scopes.default !== undefined) names.default = `${type}:${scopes.default}`;
    return names;
  }

  /** Reads the manifests (one round trip) and starts prefetching what is not local. */
  async #startPrefetch(remote: RemoteStore): Promise<void> {
    const options = this.#options;
    if (remote.readManifests === undefined || options.prefetchMaxBytes <= 0) return;
    try {
      const names = await this.#names();
      const slots = (["own", "base", "default"] as const).filter((slot) =>
        names[slot] !== undefined
      );
      const values = await remote.readManifests(slots.map((slot) => names[slot]!));
      const found: { own?: Manifest; base?: Manifest; default?: Manifest } = {};
      slots.forEach((slot, i) => {
        const value = values[i];
        if (value === undefined) return;
        const manifest = decodeManifest(value);
        if (manifest === undefined) {
          this.#logger.warnOnce(
            "manifest-damaged",
            `ignoring a damaged build manifest (${names[slot]})`,
          );
        } else {
          found[slot] = manifest;
        }
      });
      const local = this.#local;
      const records = selectPrefetch(found, {
        isLocal: (actionId) => local.has(actionId),
        maxBytes: options.prefetchMaxBytes,
      });
      if (records.length === 0 || this.#stopped) return;
      const fetcher = this.#fetcher;
      this.#prefetcher = new Prefetcher({
        records,
        fetch: async (actionId, maxBytes) =>
          (await fetcher.fetch(actionId, { background: true, maxBytes }))?.size,
        skip: (actionId) => fetcher.isFetching(actionId) || local.has(actionId),
        maxBytes: options.prefetchMaxBytes,
        onStop: (reason) =>
          this.#logger.warnOnce("prefetch-stopped", `prefetching stopped: ${reason}`),
      });
      this.#prefetcher.start();
    } catch (error) {
      this.#logger.warnOnce(
        "manifest-read",
        `cannot read build manifests (${messageOf(error)}); no prefetch`,
      );
    }
  }
}
