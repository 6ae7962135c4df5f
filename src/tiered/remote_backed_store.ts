/**
 * A {@linkcode CacheStore} that serves from a local store and shares through a remote
 * one. It coordinates the parts of the remote tier, each of which has one job:
 *
 * - {@linkcode RemoteLink}: connecting in the background, the circuit breaker, probes;
 * - {@linkcode Fetcher}: remote fetches on a local miss, joined and verified;
 * - {@linkcode Companions}: each compile's stdout entry, fetched with it;
 * - {@linkcode UploadQueue}: uploads after each put, bounded, in the background;
 * - {@linkcode ManifestSession}: build manifests, and the prefetch they drive;
 * - {@linkcode TierMetrics}: what all of them count.
 *
 * A get is answered from the local store when it can be, else from the remote; a put is
 * answered once the local store has it, and uploaded afterwards. A remote that is down,
 * frozen or full costs a build at most a deadline and one warning, and never fails a put.
 *
 * @module
 */

import type { CacheStore, Hit, LocalStore, PutRequest, PutWriter, RemoteStore } from "../store.ts";
import type { Logger } from "../util/log.ts";
import { DEFAULT_REMOTE_TIMEOUT_MILLIS } from "../store.ts";
import { DEFAULT_BREAKER_COOLDOWN_MILLIS, RemoteLink } from "./remote_link.ts";
import { Fetcher } from "./fetcher.ts";
import { Companions } from "./companions.ts";
import { UploadQueue } from "./upload_queue.ts";
import { DEFAULT_UPLOAD_WAIT_MILLIS } from "./defaults.ts";
import { type ManifestOptions, ManifestSession } from "./manifest_session.ts";
import { TierMetrics } from "./tier_metrics.ts";

/** Options for {@linkcode RemoteBackedStore}. */
export interface RemoteBackedStoreOptions {
  /** The local store: it holds every file the go command is given. */
  local: LocalStore;
  /** The remote store, or a promise of it while its code loads. */
  remote: RemoteStore | Promise<RemoteStore>;
  /** Where warnings go. */
  logger: Logger;
  /**
   * Never write to the remote.
   *
   * @default {false}
   */
  readOnly?: boolean;
  /** Read build manifests and prefetch from them; write them at close. Absent: none. */
  manifests?: ManifestOptions;
  /**
   * Fetch a compile's stdout companion in the same round trip.
   *
   * @default {true}
   */
  speculate?: boolean;
  /**
   * The deadline for connecting, and for a probe, in milliseconds.
   *
   * @default {1000}
   */
  timeoutMillis?: number;
  /**
   * At close, how long to wait for uploads still queued or running, in milliseconds.
   *
   * @default {5000}
   */
  uploadWaitMillis?: number;
  /**
   * Uploads running at once.
   *
   * @default {4}
   */
  uploadConcurrency?: number;
  /**
   * Uploads waiting at most; more are dropped (and counted).
   *
   * @default {10000}
   */
  maxQueuedUploads?: number;
  /**
   * Hash and write prefetched entries on the event loop's thread: for a process that
   * serves no go command (the `prefetch` command), where that is faster.
   *
   * @default {false}
   */
  prefetchOnEventLoop?: boolean;
  /**
   * How long the breaker stays open before a probe, in milliseconds.
   *
   * @default {5000}
   */
  breakerCooldownMillis?: number;
}

/** What a prefetch did, for the `prefetch` command. */
export interface PrefetchOutcome {
  /** Whether the remote could be used; when not, nothing was prefetched. */
  remoteAvailable: boolean;
  /** Entries the manifests named that were not local. */
  planned: number;
  /** Entries prefetched. */
  fetched: number;
  /** Their bytes. */
  fetchedBytes: number;
}

/**
 * A local store in front of a remote one.
 *
 * @example Serve a go command from disk, shared through Redis
 * ```ts ignore
 * import { DiskStore, RemoteBackedStore, serve } from "@gocacheprog/gocacheprog";
 * import { openRedisStore } from "@gocacheprog/gocacheprog/redis";
 *
 * await serve(
 *   async () =>
 *     new RemoteBackedStore({
 *       local: await DiskStore.open("/var/cache/go-build"),
 *       remote: openRedisStore({ urls: ["redis.internal:6379"] }),
 *       logger: new Logger(),
 *     }),
 *   { input: Deno.stdin, output: (bytes) => void Deno.stdout.writeSync(bytes) },
 * );
 * ```
 */
export class RemoteBackedStore implements CacheStore {
  /** The tier's counters. */
  readonly metrics: TierMetrics = new TierMetrics();
  #local: LocalStore;
  #readOnly: boolean;
  #uploadWaitMillis: number;
  #link: RemoteLink;
  #fetcher: Fetcher;
  #companions: Companions;
  #uploads: UploadQueue;
  #manifests: ManifestSession | undefined;

  /**
   * Creates the store; the remote connects in the background.
   *
   * @param options The tiers and the limits.
   */
  constructor(options: RemoteBackedStoreOptions) {
    const { local, logger } = options;
    const metrics = this.metrics;
    this.#local = local;
    this.#readOnly = options.readOnly ?? false;
    this.#uploadWaitMillis = options.uploadWaitMillis ?? DEFAULT_UPLOAD_WAIT_MILLIS;
    this.#link = new RemoteLink({
      remote: options.remote,
      logger,
      metrics,
      timeoutMillis: options.timeoutMillis ?? DEFAULT_REMOTE_TIMEOUT_MILLIS,
      breakerCooldownMillis: options.breakerCooldownMillis ?? DEFAULT_BREAKER_COOLDOWN_MILLIS,
      onConnected: (remote) => this.#manifests?.start(remote),
    });
    const link = this.#link;
    this.#fetcher = new Fetcher({
      link,
      local,
      metrics,
      logger,
      readOnly: this.#readOnly,
      prefetchOnEventLoop: options.prefetchOnEventLoop ?? false,
    });
    this.#companions = new Companions({
      enabled: options.speculate ?? true,
      local,
      fetcher: this.#fetcher,
      link,
      metrics,
    });
    this.#uploads = new UploadQueue({
      link,
      metrics,
      logger,
      knownMissing: (actionId) => this.#fetcher.takeRemoteMiss(actionId),
      ...(options.uploadConcurrency === undefined
        ? {}
        : { concurrency: options.uploadConcurrency }),
      ...(options.maxQueuedUploads === undefined ? {} : { maxQueued: options.maxQueuedUploads }),
    });
    if (options.manifests !== undefined) {
      this.#manifests = new ManifestSession({
        manifests: options.manifests,
        local,
        fetcher: this.#fetcher,
        link,
        metrics,
        logger,
        readOnly: this.#readOnly,
      });
    }
  }

  /**
   * Looks an entry up locally, then remotely; a remote hit is stored locally first.
   *
   * @param actionId The ActionID in hex.
   * @returns The hit, or `undefined` on a miss, at once for a local answer.
   */
  get(actionId: string): Hit | undefined | Promise<Hit | undefined> {
    this.#companions.noteGet(actionId);
    this.#manifests?.noteDemand(actionId);
    const local = this.#local.get(actionId);
    if (local instanceof Promise) {
      return local.then((hit) =>
        hit === undefined ? this.#getRemote(actionId) : this.#record(actionId, hit)
      );
    }
    if (local !== undefined) return this.#record(actionId, local);
    return this.#getRemote(actionId);
  }

  /**
   * Stores an entry locally; once stored, it is queued for upload.
   *
   * @param request The entry's IDs and size.
   * @returns The writer for its body.
   */
  startPut(request: PutRequest): PutWriter {
    const local = this.#local.startPut(request);
    return {
      write: (chunk) => local.write(chunk),
      abort: () => local.abort(),
      commit: () => {
        const committed = local.commit();
        if (committed instanceof Promise) {
          return committed.then((hit) => this.#afterPut(request, hit));
        }
        return this.#afterPut(request, committed);
      },
    };
  }

  /**
   * Waits for the prefetch from build manifests to finish: every entry fetched, or
   * prefetching stopped. Settles at once when there was nothing to prefetch.
   *
   * @returns What was prefetched, and whether the remote could be used at all.
   */
  async prefetchFinished(): Promise<PrefetchOutcome> {
    await this.#link.connected;
    await this.#manifests?.finished();
    this.#manifests?.collectMetrics();
    const m = this.metrics;
    return {
      remoteAvailable: this.#link.state === "up",
      planned: m.prefetchPlanned,
      fetched: m.prefetched,
      fetchedBytes: m.prefetchedBytes,
    };
  }

  /**
   * Whether background work needs the event loop: connecting, probing, fetching,
   * uploading or prefetching.
   *
   * @returns `true` while any of them is in progress.
   */
  busy(): boolean {
    return this.#link.busy() || this.#uploads.busy() || this.#fetcher.active ||
      (this.#manifests?.active ?? false);
  }

  /** Lets the local store do what it deferred to answer sooner. */
  idle(): void {
    this.#local.idle?.();
  }

  /**
   * Stops prefetching, waits for uploads at most the upload wait, writes the build
   * manifests, and closes both tiers.
   */
  async close(): Promise<void> {
    this.#manifests?.stop();
    await this.#uploads.drain(this.#uploadWaitMillis);
    await this.#manifests?.write();
    await this.#link.close();
    await this.#local.close();
  }

  /**
   * The tier's counters, for `--metrics-file`.
   *
   * @returns Every counter, by name.
   */
  counters(): Record<string, number> {
    this.#manifests?.collectMetrics();
    return this.metrics.toRecord();
  }

  /**
   * The tier's line of the `--log-metrics` summary.
   *
   * @returns The line, without a newline.
   */
  summary(): string {
    this.#manifests?.collectMetrics();
    return this.metrics.summary();
  }

  /** Asks the remote on a local miss, and fetches the stdout companion alongside. */
  #getRemote(actionId: string): Hit | undefined | Promise<Hit | undefined> {
    const fetch = this.#fetcher.demand(actionId);
    if (!(fetch instanceof Promise)) return fetch;
    this.#companions.follow(actionId, fetch);
    return fetch.then((hit) => this.#record(actionId, hit));
  }

  /** Notes a hit for this build's manifest. */
  #record<T extends Hit | undefined>(actionId: string, hit: T): T {
    if (hit !== undefined) this.#manifests?.note(actionId, hit.size);
    return hit;
  }

  #afterPut(request: PutRequest, hit: Hit): Hit {
    this.#manifests?.note(request.actionId, hit.size);
    if (!this.#readOnly) {
      this.#uploads.add({
        actionId: request.actionId,
        outputId: hit.outputId,
        size: hit.size,
        timeNanos: hit.timeNanos,
        diskPath: hit.diskPath,
        computeMillis: request.computeMillis,
      });
    }
    return hit;
  }
}
