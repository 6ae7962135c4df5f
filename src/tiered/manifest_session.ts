/**
 * One go command's use of build manifests: at start, read the manifests of this build's
 * scopes (one round trip) and prefetch what is not local; meanwhile, record what the
 * go command hits and puts; at close, write that record to this build's manifests.
 * The manifest format is in `manifest_format.ts`, the scopes and the choice of entries
 * in `manifest.ts`, and the prefetch engine in `prefetcher.ts`.
 *
 * @module
 */

import type { RemoteStore } from "../store.ts";
import type { Counted, Counters } from "../metrics.ts";
import {
  ClosedError,
  DeadlineError,
  messageOf,
  RemoteAuthError,
  RemoteUnavailableError,
} from "../errors.ts";
import { sha256HexOfText } from "../util/sha256.ts";
import {
  decodeManifest,
  encodeManifestHeader,
  encodeManifestRecords,
  type Manifest,
} from "../manifest_format.ts";
import { ManifestRecorder, type ManifestScopes, selectPrefetch } from "./manifest.ts";
import { Prefetcher } from "./prefetcher.ts";
import type { Fetcher } from "./fetcher.ts";
import type { TierContext } from "./tier_context.ts";

/** Build manifests: where they are, whether to write them, and how much to prefetch. */
export interface ManifestOptions {
  /** The build type and the scopes to read and write. */
  scopes: ManifestScopes;
  /** Write this build's manifest at close (never in read-only mode). */
  write: boolean;
  /** The most bytes to prefetch; 0 turns prefetching off. */
  prefetchMaxBytes: number;
}

/** The manifest names of a build: its own scope's, its base's and the default's. */
interface ManifestNames {
  own?: string;
  base?: string;
  default?: string;
}

/** Whether an error is the remote failing (slow, gone, refusing us), not the manifest. */
function isRemoteFailure(error: unknown): boolean {
  return error instanceof DeadlineError || error instanceof RemoteUnavailableError ||
    error instanceof RemoteAuthError;
}

/** The counters before any prefetch has been planned. */
const NO_PREFETCH = {
  prefetchPlanned: 0,
  prefetched: 0,
  prefetchedBytes: 0,
  prefetchUsed: 0,
  prefetchUsedBytes: 0,
  prefetchMissing: 0,
};

/** Reads manifests and prefetches at start, records and writes at close. */
export class ManifestSession implements Counted {
  #options: ManifestOptions;
  #context: TierContext;
  #fetcher: Fetcher;
  #recorder = new ManifestRecorder();
  #prefetcher: Prefetcher | undefined;
  /** Settles once the manifests have been read and the prefetch, if any, started. */
  #starting: Promise<void> = Promise.resolve();
  #stopped = false;
  #startedAt = Date.now();

  /**
   * Creates a session; {@linkcode ManifestSession.start} starts the prefetch.
   *
   * @param options Where the manifests are, and what to do with them.
   * @param context The tier's shared pieces.
   * @param fetcher Fetches prefetched entries, sharing fetches with demand gets.
   */
  constructor(options: ManifestOptions, context: TierContext, fetcher: Fetcher) {
    this.#options = options;
    this.#context = context;
    this.#fetcher = fetcher;
  }

  /**
   * The prefetch's counters: entries the manifests named that were not local
   * (`prefetchPlanned`), fetched (`prefetched`, `prefetchedBytes`), then asked for by the
   * go command (`prefetchUsed`, `prefetchUsedBytes`), and no longer in the remote
   * (`prefetchMissing`).
   *
   * @returns The counters.
   */
  counters(): Counters {
    const metrics = this.#prefetcher?.metrics;
    if (metrics === undefined) return { ...NO_PREFETCH };
    return {
      prefetchPlanned: metrics.planned,
      prefetched: metrics.fetched,
      prefetchedBytes: metrics.fetchedBytes,
      prefetchUsed: metrics.used,
      prefetchUsedBytes: metrics.usedBytes,
      prefetchMissing: metrics.missing,
    };
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

  /**
   * Whether the prefetch has work in flight or queued.
   *
   * @returns `true` while it has.
   */
  busy(): boolean {
    return this.#prefetcher?.busy() ?? false;
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

  /**
   * Writes what this go command used to its manifests: its own scope's, and the
   * default's on the default branch. Never in read-only mode, and never to a remote
   * that may not be asked.
   */
  async write(): Promise<void> {
    const options = this.#options;
    const { link, logger, readOnly } = this.#context;
    const remote = link.remote;
    const records = this.#recorder.records;
    if (
      !options.write || readOnly || records.length === 0 ||
      remote?.writeManifest === undefined || link.state !== "up"
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
        logger.warnOnce("manifest-write", `cannot write the build manifest: ${messageOf(error)}`)
      );
    }
  }

  /** The names of this build's manifests: its own scope's, its base's, the default's. */
  async #names(): Promise<ManifestNames> {
    const scopes = this.#options.scopes;
    // The toolchain is part of the build's kind: a matrix over Go versions or targets
    // never reads another entry's manifest.
    const kind = scopes.toolchain === ""
      ? scopes.buildType
      : `${scopes.buildType}\n${scopes.toolchain}`;
    const type = (await sha256HexOfText(kind)).slice(0, 16);
    const names: ManifestNames = {};
    if (scopes.own !== undefined) names.own = `${type}:${scopes.own}`;
    if (scopes.base !== undefined) names.base = `${type}:${scopes.base}`;
    if (scopes.default !== undefined) names.default = `${type}:${scopes.default}`;
    return names;
  }

  /** Reads the manifests (one round trip) and starts prefetching what is not local. */
  async #startPrefetch(remote: RemoteStore): Promise<void> {
    const options = this.#options;
    const { local, logger, link } = this.#context;
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
          logger.warnOnce("manifest-damaged", `ignoring a damaged build manifest (${names[slot]})`);
        } else {
          found[slot] = manifest;
        }
      });
      const records = selectPrefetch(found, {
        isLocal: (actionId) => local.has(actionId),
        maxBytes: options.prefetchMaxBytes,
      });
      if (records.length === 0 || this.#stopped) return;
      const fetcher = this.#fetcher;
      this.#prefetcher = new Prefetcher({
        records,
        fetch: async (actionId, maxBytes) =>
          (await fetcher.fetch(actionId, "prefetch", maxBytes))?.size,
        skip: (actionId) => fetcher.isFetching(actionId) || local.has(actionId),
        maxBytes: options.prefetchMaxBytes,
        onStop: (reason) => logger.warnOnce("prefetch-stopped", `prefetching stopped: ${reason}`),
        failsQuietly: (error) => error instanceof ClosedError || isRemoteFailure(error),
      });
      this.#prefetcher.start();
    } catch (error) {
      // Cut off by our own close (the go command finished first): nothing to say.
      if (error instanceof ClosedError || link.closed) return;
      // The remote failing is the link's to judge and to say, once for the whole tier.
      if (isRemoteFailure(error)) {
        link.failed(error);
        return;
      }
      logger.warnOnce(
        "manifest-read",
        `cannot read build manifests (${messageOf(error)}); no prefetch`,
      );
    }
  }
}
