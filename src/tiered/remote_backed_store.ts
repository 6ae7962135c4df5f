/**
 * A {@linkcode CacheStore} that serves from a local store and shares through a remote
 * one. It coordinates the parts of the remote tier, each of which has one job and owns
 * its own counters:
 *
 * - {@linkcode RemoteLink}: connecting in the background, the circuit breaker, probes;
 * - {@linkcode Fetcher}: remote fetches on a local miss, joined and checked;
 * - {@linkcode Companions}: each compile's stdout entry, fetched with it;
 * - {@linkcode UploadQueue}: uploads after each put, bounded, in the background;
 * - {@linkcode SingleFlight}: leases, so that the fleet compiles each action once;
 * - {@linkcode ManifestSession}: build manifests, and the prefetch they drive.
 *
 * The parts do not call one another: this store passes what one learns to the next (the
 * connected remote to the manifests, a remote miss to the upload that follows it, the end
 * of an upload to the lease it ends).
 *
 * A get is answered from the local store when it can be, else from the remote; a put is
 * answered once the local store has it, and uploaded afterwards. A remote that is down,
 * frozen or full costs a build at most a deadline and one warning, and never fails a put.
 *
 * @module
 */

import {
  type BackgroundWork,
  type CacheStore,
  DEFAULT_REMOTE_TIMEOUT_MILLIS,
  type Hit,
  type LocalStore,
  type PutRequest,
  type PutWriter,
  type RemoteStore,
} from "../store.ts";
import { MetricsRegistry } from "../metrics.ts";
import type { Logger } from "../util/log.ts";
import { type Clock, SYSTEM_CLOCK } from "../util/clock.ts";
import { type RemoteHealth, RemoteLink } from "./remote_link.ts";
import { Fetcher } from "./fetcher.ts";
import { Companions } from "./companions.ts";
import { UploadQueue } from "./upload_queue.ts";
import {
  DEFAULT_BREAKER_COOLDOWN_MILLIS,
  DEFAULT_FLEET_WAIT_MILLIS,
  DEFAULT_UPLOAD_WAIT_MILLIS,
} from "./defaults.ts";
import { SingleFlight } from "./single_flight.ts";
import { type ManifestOptions, ManifestSession } from "./manifest_session.ts";
import type { TierContext } from "./tier_context.ts";

/** Options for {@linkcode RemoteBackedStore}. */
export interface RemoteBackedStoreOptions {
  /** The local store: it holds every file the go command is given. */
  local: LocalStore;
  /** The remote store, or a promise of it while its code loads. */
  remote: RemoteStore | Promise<RemoteStore>;
  /** Where warnings go. */
  logger: Logger;
  /** Where the tier's parts register their counters; a registry of its own if absent. */
  metrics?: MetricsRegistry;
  /** The clock for deadlines, cooldowns and waits; the system's unless given. */
  clock?: Clock;
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
   * How long the breaker stays open before a probe, in milliseconds.
   *
   * @default {5000}
   */
  breakerCooldownMillis?: number;
  /** What the other processes of the job found of the remote; nothing shared if absent. */
  health?: RemoteHealth;
  /**
   * How long a get may wait for another process of the fleet to compile the action, in
   * milliseconds; 0 turns single flight off (no lease is taken or waited on).
   *
   * @default {60000}
   */
  fleetWaitMillis?: number;
  /**
   * How long a lease lives unless renewed, in milliseconds.
   *
   * @default {5000}
   */
  fleetLeaseMillis?: number;
  /** This process's identity in the fleet; a random one unless given. */
  fleetOwner?: string;
  /** What the remote being unavailable means, for its one warning; a build's by default. */
  unavailableMeans?: string;
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
 * @example Serve from disk, shared through a remote store
 * ```ts
 * import assert from "node:assert/strict";
 * import { DiskStore, Logger, RemoteBackedStore } from "../../mod.ts";
 * import { openRedisStore } from "../redis/redis_store.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const store = new RemoteBackedStore({
 *   local: await DiskStore.open(dir),
 *   // Nothing listens on port 1: the build goes on from local disk, with one warning.
 *   remote: openRedisStore({ urls: ["127.0.0.1:1"] }),
 *   logger: new Logger(() => {}),
 * });
 * assert.equal(await store.get("ab".repeat(32)), undefined);
 * await store.close();
 * assert.equal(store.metrics.record().breakerTrips, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RemoteBackedStore implements CacheStore {
  /** Where the tier's parts registered their counters. */
  readonly metrics: MetricsRegistry;
  /** The tier's own work (connecting, fetches, uploads, prefetch) and the local store's. */
  readonly background: BackgroundWork;
  #local: LocalStore;
  #readOnly: boolean;
  #uploadWaitMillis: number;
  #link: RemoteLink;
  #fetcher: Fetcher;
  #companions: Companions;
  #uploads: UploadQueue;
  #flight: SingleFlight;
  #manifests: ManifestSession | undefined;
  /** Settles once the manifests have been started, or will not be. */
  #manifestsStarted: Promise<void>;

  /**
   * Creates the store; the remote connects in the background.
   *
   * @param options The tiers and the limits.
   */
  constructor(options: RemoteBackedStoreOptions) {
    const { local, logger } = options;
    const clock = options.clock ?? SYSTEM_CLOCK;
    this.#local = local;
    this.#readOnly = options.readOnly ?? false;
    this.#uploadWaitMillis = options.uploadWaitMillis ?? DEFAULT_UPLOAD_WAIT_MILLIS;
    const link = this.#link = new RemoteLink({
      remote: options.remote,
      logger,
      clock,
      timeoutMillis: options.timeoutMillis ?? DEFAULT_REMOTE_TIMEOUT_MILLIS,
      breakerCooldownMillis: options.breakerCooldownMillis ?? DEFAULT_BREAKER_COOLDOWN_MILLIS,
      ...(options.health === undefined ? {} : { health: options.health }),
      ...(options.unavailableMeans === undefined
        ? {}
        : { unavailableMeans: options.unavailableMeans }),
    });
    const context: TierContext = { link, local, logger, clock, readOnly: this.#readOnly };
    const flight = this.#flight = new SingleFlight(context, {
      waitMillis: options.fleetWaitMillis ?? DEFAULT_FLEET_WAIT_MILLIS,
      ...(options.fleetLeaseMillis === undefined ? {} : { leaseMillis: options.fleetLeaseMillis }),
      ...(options.fleetOwner === undefined ? {} : { owner: options.fleetOwner }),
    });
    this.#fetcher = new Fetcher(context, flight);
    this.#companions = new Companions({
      enabled: options.speculate ?? true,
      local,
      fetcher: this.#fetcher,
      link,
    });
    this.#uploads = new UploadQueue({
      link,
      local,
      logger,
      clock,
      onFinished: (actionId) => flight.finished(actionId),
      ...(options.uploadConcurrency === undefined
        ? {}
        : { concurrency: options.uploadConcurrency }),
      ...(options.maxQueuedUploads === undefined ? {} : { maxQueued: options.maxQueuedUploads }),
    });
    const manifests = options.manifests === undefined
      ? undefined
      : new ManifestSession(options.manifests, context, this.#fetcher);
    this.#manifests = manifests;
    // Once connected, the manifests are read and the prefetch starts.
    this.#manifestsStarted = link.connected.then((remote) => {
      if (remote !== undefined && link.state === "up") manifests?.start(remote);
    });
    const metrics = this.metrics = options.metrics ?? new MetricsRegistry();
    metrics.register("link", link);
    metrics.register("fetch", this.#fetcher);
    metrics.register("companions", this.#companions);
    metrics.register("uploads", this.#uploads);
    metrics.register("fleet", flight);
    if (manifests !== undefined) metrics.register("prefetch", manifests);
    this.background = {
      busy: () =>
        link.busy() || this.#uploads.busy() || this.#fetcher.busy() || flight.busy() ||
        (manifests?.busy() ?? false),
      runDeferred: () => local.background?.runDeferred(),
    };
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
    await this.#manifestsStarted;
    await this.#manifests?.finished();
    const counters = this.#manifests?.counters();
    return {
      remoteAvailable: this.#link.state === "up",
      planned: counters?.prefetchPlanned ?? 0,
      fetched: counters?.prefetched ?? 0,
      fetchedBytes: counters?.prefetchedBytes ?? 0,
    };
  }

  /**
   * Stops prefetching, waits for uploads at most the upload wait, ends the leases still
   * held, writes the build manifests, and closes both tiers.
   */
  async close(): Promise<void> {
    this.#manifests?.stop();
    await this.#uploads.drain(this.#uploadWaitMillis);
    // Leases whose upload never ended them: nobody is to wait on this build any more.
    await this.#flight.close();
    await this.#manifests?.write();
    await this.#link.close();
    await this.#local.close();
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
    // What the fetcher learnt of this action goes with its upload.
    const remoteMissed = this.#fetcher.takeRemoteMiss(request.actionId);
    if (!this.#readOnly) {
      this.#uploads.add({
        actionId: request.actionId,
        outputId: hit.outputId,
        size: hit.size,
        timeNanos: hit.timeNanos,
        remoteMissed,
        ...(request.computeMillis === undefined ? {} : { computeMillis: request.computeMillis }),
      });
    }
    return hit;
  }
}
