/**
 * A {@linkcode LocalStore} that puts a {@linkcode RemoteStore} behind a local one.
 *
 * - **Get:** a local hit is answered at once. On a local miss the remote is asked (one
 *   fetch per action, however many gets wait on it); what it returns is verified (size,
 *   and SHA-256 equal to the OutputID) before it is written to the local store and
 *   served. A corrupt value is a miss, counted and reported once, and removed.
 * - **Put:** the local store first, then the answer; the upload runs in the background,
 *   a few at a time, reading the body back from the local file so memory stays bounded,
 *   and is skipped when the remote already holds the entry.
 * - **Failure:** the remote connects in the background and never delays the
 *   handshake. A circuit breaker stops asking it after a timeout or a few errors in a
 *   row; a background probe asks again later. A remote failure never fails a put.
 *
 * @module
 */

import type { Hit, LocalStore, PutRequest, PutWriter, RemoteEntry, RemoteStore } from "../store.ts";
import { CorruptEntryError } from "../store.ts";
import { CircuitBreaker } from "./circuit_breaker.ts";
import { DeadlineError, withDeadline } from "../util/deadline.ts";
import type { Logger } from "../util/log.ts";
import { loadSha256, sha256HexOffThread, sha256HexOfText } from "../util/sha256.ts";
import { subkey } from "./subkey.ts";
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
import { formatBytes } from "../protocol/serve_metrics.ts";
import { messageOf } from "../protocol/wire.ts";

/** Companions fetched before judging whether speculation pays. */
const SPECULATION_TRIAL = 64;

/** Below this share of companions used, speculation stops. */
const SPECULATION_MIN_USE = 0.2;

/** Entries larger than this are not uploaded: memory for one upload stays bounded. */
const MAX_UPLOAD_BYTES = 512 << 20;

/** Bytes of upload bodies held in memory at once, beyond the first upload. */
const UPLOAD_BYTES_IN_FLIGHT = 128 << 20;

/** Options for {@linkcode TieredStore}. */
export interface TieredStoreOptions {
  /** The local tier: it holds every file the go command is given. */
  local: LocalStore;
  /** The remote tier, or a promise of it while its code loads. */
  remote: RemoteStore | Promise<RemoteStore>;
  /** Where warnings go. */
  logger: Logger;
  /** Never write to the remote. */
  readOnly?: boolean;
  /** Read build manifests and prefetch from them; write them at close. */
  manifests?: ManifestOptions;
  /** Fetch a compile's stdout companion in the same round trip (default true). */
  speculate?: boolean;
  /** Deadline for one remote operation, and for connecting, in milliseconds. */
  timeoutMillis?: number;
  /** At close, how long to wait for uploads still queued or running, in milliseconds. */
  uploadWaitMillis?: number;
  /** Uploads running at once. */
  uploadConcurrency?: number;
  /** Uploads waiting at most; more are dropped (and counted). */
  maxQueuedUploads?: number;
  /** How long the breaker stays open before a probe, in milliseconds. */
  breakerCooldownMillis?: number;
}

/** Build manifests: where they are, whether to write them, and how much to prefetch. */
export interface ManifestOptions {
  /** The build type and the scopes to read and write. */
  scopes: ManifestScopes;
  /** Write this build's manifest at close (never in read-only mode). */
  write: boolean;
  /** The most bytes to prefetch; 0 turns prefetching off. */
  prefetchMaxBytes: number;
}

/** What the tiered store counts, for `--log-metrics`. */
export interface TieredMetrics {
  /** Gets answered from the remote. */
  remoteHits: number;
  /** Local misses that the remote did not have either. */
  remoteMisses: number;
  /** Remote gets that failed (timeouts, errors). */
  remoteErrors: number;
  /** Remote values that were not valid entries. */
  corrupt: number;
  /** Gets answered as misses without asking the remote, because its breaker was open. */
  skipped: number;
  /** Body bytes downloaded from the remote. */
  bytesDownloaded: number;
  /** Body bytes uploaded to the remote. */
  bytesUploaded: number;
  /** Entries uploaded. */
  uploads: number;
  /** Uploads skipped because the remote already held the entry. */
  uploadsSkipped: number;
  /** Uploads that failed. */
  uploadsFailed: number;
  /** Uploads not attempted: queue full, remote unavailable, or still queued at exit. */
  uploadsDropped: number;
  /** Time spent waiting on remote gets, in milliseconds. */
  remoteMillis: number;
  /** "stdout" companions fetched with their compile, in the same round trip. */
  companionsFetched: number;
  /** Of those, the ones the go command then asked for. */
  companionsUsed: number;
  /** Entries the manifests named that were not local. */
  prefetchPlanned: number;
  /** Entries prefetched. */
  prefetched: number;
  /** Their bytes. */
  prefetchedBytes: number;
  /** Prefetched entries the go command then asked for. */
  prefetchUsed: number;
  /** Their bytes. */
  prefetchUsedBytes: number;
}

interface Upload {
  actionId: string;
  outputId: string;
  size: number;
  timeNanos: bigint;
  diskPath: string;
  computeMillis: number | undefined;
}

/** A local store in front of a remote one. */
export class TieredStore implements LocalStore {
  /** The counters. */
  readonly metrics: TieredMetrics = {
    remoteHits: 0,
    remoteMisses: 0,
    remoteErrors: 0,
    corrupt: 0,
    skipped: 0,
    bytesDownloaded: 0,
    bytesUploaded: 0,
    uploads: 0,
    uploadsSkipped: 0,
    uploadsFailed: 0,
    uploadsDropped: 0,
    remoteMillis: 0,
    companionsFetched: 0,
    companionsUsed: 0,
    prefetchPlanned: 0,
    prefetched: 0,
    prefetchedBytes: 0,
    prefetchUsed: 0,
    prefetchUsedBytes: 0,
  };
  #local: LocalStore;
  #logger: Logger;
  #readOnly: boolean;
  #timeoutMillis: number;
  #uploadWaitMillis: number;
  #uploadConcurrency: number;
  #maxQueuedUploads: number;
  #breaker: CircuitBreaker;
  #remote: RemoteStore | undefined;
  #connecting: Promise<RemoteStore | undefined>;
  #fetches = new Map<string, Promise<Hit | undefined>>();
  /** Companions stored locally ahead of the go command's get for them. */
  #companions = new Set<string>();
  /** Actions the remote did not have, this session: their uploads need not ask again. */
  #missedRemotely = new Set<string>();
  #queue: Upload[] = [];
  #activeUploads = 0;
  #uploadsIdle: (() => void) | undefined;
  #probing = false;
  #closing = false;
  #connectSettled = false;
  #manifests: ManifestOptions | undefined;
  #recorder: ManifestRecorder | undefined;
  #prefetcher: Prefetcher | undefined;
  #startedAt = Date.now();
  /** Settles once the manifests have been read and the prefetch, if any, started. */
  #prefetchStarting: Promise<void> = Promise.resolve();
  #speculation: boolean;
  #activeUploadBytes = 0;

  /**
   * Creates the store; the remote keeps connecting in the background.
   *
   * @param options The tiers and the limits.
   */
  constructor(options: TieredStoreOptions) {
    this.#local = options.local;
    this.#logger = options.logger;
    this.#readOnly = options.readOnly ?? false;
    this.#timeoutMillis = options.timeoutMillis ?? 1000;
    this.#uploadWaitMillis = options.uploadWaitMillis ?? 5000;
    this.#uploadConcurrency = options.uploadConcurrency ?? 4;
    this.#maxQueuedUploads = options.maxQueuedUploads ?? 10_000;
    this.#manifests = options.manifests;
    if (options.manifests !== undefined) this.#recorder = new ManifestRecorder();
    this.#speculation = options.speculate ?? true;
    this.#breaker = new CircuitBreaker({
      cooldownMillis: options.breakerCooldownMillis ?? 5000,
      onOpen: (reason) => {
        const where = this.#remote?.description ?? "";
        this.#logger.warnOnce(
          "remote-down",
          `Redis ${where} is unavailable (${reason}); building from the local cache alone ` +
            "and retrying in the background",
        );
      },
    });
    this.#connecting = this.#connect(options.remote).finally(() => this.#connectSettled = true);
  }

  get(actionId: string): Hit | undefined | Promise<Hit | undefined> {
    if (this.#companions.delete(actionId)) this.metrics.companionsUsed++;
    this.#prefetcher?.noteDemand(actionId);
    const local = this.#local.get(actionId);
    if (local instanceof Promise) {
      return local.then((hit) =>
        hit === undefined ? this.#getRemote(actionId) : this.#record(actionId, hit)
      );
    }
    if (local !== undefined) return this.#record(actionId, local);
    const remote = this.#getRemote(actionId);
    return remote instanceof Promise ? remote.then((hit) => this.#record(actionId, hit)) : remote;
  }

  /** Notes a hit for this build's manifest. */
  #record<T extends Hit | undefined>(actionId: string, hit: T): T {
    if (hit !== undefined) this.#recorder?.note(actionId, hit.size);
    return hit;
  }

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
   * prefetching stopped. Settles at once when there was nothing to prefetch (no
   * manifest, no remote, nothing missing locally).
   */
  async prefetchFinished(): Promise<void> {
    await this.#connecting;
    await this.#prefetchStarting;
    await this.#prefetcher?.finished();
  }

  /** Background work needs the event loop while connecting, uploading or probing. */
  busy(): boolean {
    return !this.#connectSettled || this.#queue.length > 0 || this.#activeUploads > 0 ||
      this.#fetches.size > 0 || this.#probing || (this.#prefetcher?.active ?? false);
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#prefetcher?.stop("the go command finished", true);
    if (this.#queue.length > 0 || this.#activeUploads > 0) {
      const idle = new Promise<void>((resolve) => this.#uploadsIdle = resolve);
      await withDeadline(idle, this.#uploadWaitMillis, "waiting for uploads").catch(() => {});
    }
    const left = this.#queue.length + this.#activeUploads;
    if (left > 0) {
      const bytes = this.#queue.reduce((sum, upload) => sum + upload.size, 0);
      this.metrics.uploadsDropped += this.#queue.length;
      this.#queue = [];
      this.#logger.info(
        `${left} uploads (${formatBytes(bytes)} queued) were not finished within the upload wait ` +
          `(${this.#uploadWaitMillis} ms): those entries are in the local cache but not in Redis`,
      );
    }
    await this.#writeManifests();
    await this.#remote?.close().catch(() => {});
    await this.#local.close();
  }

  counters(): Record<string, number> {
    this.#collectPrefetchMetrics();
    return {
      ...this.metrics,
      breakerTrips: this.#breaker.trips,
      demandRoundTrips: this.#demandRoundTrips(),
    };
  }

  summary(): string {
    this.#collectPrefetchMetrics();
    const m = this.metrics;
    return [
      `remote: ${m.remoteHits} hits, ${m.remoteMisses} misses, ${m.remoteErrors} errors, `,
      `${m.corrupt} corrupt, ${m.skipped} not asked; `,
      `${formatBytes(m.bytesDownloaded)} downloaded, ${formatBytes(m.bytesUploaded)} uploaded; `,
      `${m.uploads} uploads, ${m.uploadsSkipped} already there, ${m.uploadsFailed} failed, `,
      `${m.uploadsDropped} dropped; breaker trips ${this.#breaker.trips}; `,
      `stdout companions fetched ${m.companionsFetched}, used ${m.companionsUsed}; `,
      `prefetched ${m.prefetched} of ${m.prefetchPlanned} (${formatBytes(m.prefetchedBytes)}), `,
      `used ${m.prefetchUsed} (${formatBytes(m.prefetchUsedBytes)}), unused `,
      `${
        formatBytes(m.prefetchedBytes - m.prefetchUsedBytes)
      }; demand round trips ${this.#demandRoundTrips()}; `,
      `waited on remote gets ${Math.round(m.remoteMillis)} ms`,
    ].join("");
  }

  async #connect(remote: RemoteStore | Promise<RemoteStore>): Promise<RemoteStore | undefined> {
    try {
      const store = await remote;
      this.#remote = store;
      // The store's own connect deadline bounds this; the outer one is a safety net.
      const ready = await withDeadline(store.ready(), this.#timeoutMillis * 2, "connecting").catch(
        () => false,
      );
      // Not reachable yet: the breaker opens, and its background probe tells when it is.
      if (!ready) this.#breaker.recordFailure(store.lastError ?? "it cannot be reached", true);
      else if (this.#manifests !== undefined) this.#prefetchStarting = this.#startPrefetch(store);
      return store;
    } catch (error) {
      this.#breaker.recordFailure(messageOf(error), true);
      return undefined;
    }
  }

  /** Asks the remote on a local miss; concurrent gets of one action share the fetch. */
  #getRemote(actionId: string): Hit | undefined | Promise<Hit | undefined> {
    if (!this.#breaker.allows()) {
      this.#maybeProbe();
      this.metrics.skipped++;
      return undefined;
    }
    const pending = this.#fetches.get(actionId);
    if (pending !== undefined) return pending;
    const fetch = this.#startFetch(actionId);
    this.#speculate(actionId, fetch);
    return fetch;
  }

  #startFetch(actionId: string, prefetch = false): Promise<Hit | undefined> {
    const fetch = this.#fetch(actionId, prefetch).finally(() => this.#fetches.delete(actionId));
    this.#fetches.set(actionId, fetch);
    return fetch;
  }

  /**
   * Fetches the "stdout" companion that the go command asks for right after a compile
   * hit, in the same round trip as the compile (both requests are pipelined), and keeps
   * it only if the compile itself was a hit. It stops by itself when the companions go
   * unused (a Go version that no longer asks for them, or gets that are not compiles).
   */
  #speculate(actionId: string, fetch: Promise<Hit | undefined>): void {
    const m = this.metrics;
    if (!this.#speculation) return;
    if (
      m.companionsFetched >= SPECULATION_TRIAL &&
      m.companionsUsed < m.companionsFetched * SPECULATION_MIN_USE
    ) {
      return;
    }
    loadSha256().then((sha256) => {
      const companion = subkey(sha256, actionId, "stdout");
      if (this.#fetches.has(companion) || !this.#breaker.allows()) return;
      const local = this.#local.get(companion);
      if (local instanceof Promise || local !== undefined) return;
      const companionFetch = this.#startFetch(companion);
      Promise.all([fetch, companionFetch]).then(([hit, companionHit]) => {
        if (hit !== undefined && companionHit !== undefined) {
          m.companionsFetched++;
          this.#companions.add(companion);
        }
      }, () => {});
    }, () => {});
  }

  /**
   * Fetches an entry into the local store. A prefetch counts in the prefetch metrics
   * only, and its failures reject instead of counting against the circuit breaker:
   * slow bulk transfers must not turn the demand path off.
   */
  async #fetch(actionId: string, prefetch = false): Promise<Hit | undefined> {
    const remote = await this.#connecting;
    if (remote === undefined || !this.#breaker.allows()) {
      if (!prefetch) this.metrics.skipped++;
      return undefined;
    }
    const started = performance.now();
    let entry: RemoteEntry | undefined;
    try {
      entry = await remote.get(actionId, prefetch ? { background: true } : undefined);
      this.#breaker.recordSuccess();
    } catch (error) {
      this.metrics.remoteMillis += performance.now() - started;
      if (error instanceof CorruptEntryError) {
        this.#corrupt(remote, actionId, error.message);
        return undefined;
      }
      if (prefetch) throw error;
      this.metrics.remoteErrors++;
      this.#breaker.recordFailure(messageOf(error), isTimeout(error));
      return undefined;
    }
    this.metrics.remoteMillis += performance.now() - started;
    if (entry === undefined) {
      if (prefetch) return undefined;
      this.metrics.remoteMisses++;
      if (this.#missedRemotely.size < 100_000) this.#missedRemotely.add(actionId);
      return undefined;
    }
    const problem = await verify(entry, prefetch);
    if (problem !== undefined) {
      this.#corrupt(remote, actionId, problem);
      return undefined;
    }
    const request = {
      actionId,
      outputId: entry.outputId,
      size: entry.size,
      timeNanos: entry.timeNanos,
      ...(entry.computeMillis === undefined ? {} : { computeMillis: entry.computeMillis }),
    };
    let stored: Hit;
    if (prefetch && this.#local.storeInBackground !== undefined) {
      // Nobody waits on a prefetch: its writes go to the thread pool, so that the go
      // command's requests are not held behind them.
      stored = await this.#local.storeInBackground(request, entry.body);
    } else {
      const writer = this.#local.startPut(request);
      try {
        await writer.write(entry.body);
        stored = await writer.commit();
      } catch (error) {
        await writer.abort().catch(() => {});
        throw error;
      }
    }
    if (!prefetch) this.metrics.remoteHits++;
    this.metrics.bytesDownloaded += entry.size;
    return {
      ...stored,
      source: "remote",
      ...(entry.computeMillis === undefined ? {} : { computeMillis: entry.computeMillis }),
    };
  }

  #corrupt(remote: RemoteStore, actionId: string, problem: string): void {
    this.metrics.corrupt++;
    this.#logger.warnOnce(
      "remote-corrupt",
      `Redis returned a corrupt entry for action ${actionId} (${problem}); it is treated as a miss ` +
        "and never served (further corrupt entries are counted in the metrics)",
    );
    if (!this.#readOnly) remote.delete(actionId).catch(() => {});
  }

  #afterPut(request: PutRequest, hit: Hit): Hit {
    this.#recorder?.note(request.actionId, hit.size);
    if (this.#readOnly || this.#closing) return hit;
    if (this.#queue.length >= this.#maxQueuedUploads || hit.size > MAX_UPLOAD_BYTES) {
      this.metrics.uploadsDropped++;
      return hit;
    }
    this.#queue.push({
      actionId: request.actionId,
      outputId: hit.outputId,
      size: hit.size,
      timeNanos: hit.timeNanos,
      diskPath: hit.diskPath,
      computeMillis: request.computeMillis,
    });
    this.#pump();
    return hit;
  }

  /** Starts queued uploads, a few at a time and within a budget of bytes in memory. */
  #pump(): void {
    while (this.#queue.length > 0 && this.#activeUploads < this.#uploadConcurrency) {
      const next = this.#queue[0]!;
      if (this.#activeUploads > 0 && this.#activeUploadBytes + next.size > UPLOAD_BYTES_IN_FLIGHT) {
        break;
      }
      this.#queue.shift();
      this.#activeUploads++;
      this.#activeUploadBytes += next.size;
      this.#upload(next).finally(() => {
        this.#activeUploads--;
        this.#activeUploadBytes -= next.size;
        if (this.#queue.length === 0 && this.#activeUploads === 0) this.#uploadsIdle?.();
        else this.#pump();
      });
    }
  }

  async #upload(upload: Upload): Promise<void> {
    const remote = await this.#connecting;
    if (remote === undefined || !this.#breaker.allows()) {
      this.metrics.uploadsDropped++;
      return;
    }
    try {
      // After a remote miss of this very action, asking again would only cost a round trip.
      const known = this.#missedRemotely.delete(upload.actionId) ? false : await withDeadline(
        remote.has(upload.actionId, upload.outputId),
        this.#timeoutMillis,
        "checking",
      );
      if (known) {
        this.metrics.uploadsSkipped++;
        return;
      }
      let body: Uint8Array;
      try {
        body = await Deno.readFile(upload.diskPath);
      } catch {
        this.metrics.uploadsDropped++; // the file is gone (go clean -cache): nothing to upload
        return;
      }
      if (body.length !== upload.size) {
        this.metrics.uploadsDropped++;
        return;
      }
      // A deadline that grows with the body: 1 s per 10 MB on top of the base.
      const deadline = this.#timeoutMillis + Math.ceil(upload.size / 10_000);
      await withDeadline(
        remote.put(upload.actionId, {
          outputId: upload.outputId,
          size: upload.size,
          timeNanos: upload.timeNanos,
          body,
          ...(upload.computeMillis === undefined ? {} : { computeMillis: upload.computeMillis }),
        }),
        deadline,
        "uploading",
      );
      this.metrics.uploads++;
      this.metrics.bytesUploaded += upload.size;
      this.#breaker.recordSuccess();
    } catch (error) {
      this.metrics.uploadsFailed++;
      const reason = messageOf(error);
      if (/^OOM |maxmemory/i.test(reason)) {
        this.#logger.warnOnce(
          "remote-full",
          `Redis is full (${reason}); new entries are not being uploaded`,
        );
      } else {
        this.#breaker.recordFailure(reason, isTimeout(error));
      }
    }
  }

  /** The names of this build's manifests: its own scope's, its base's, the default's. */
  async #manifestNames(): Promise<{ own?: string; base?: string; default?: string }> {
    const scopes = this.#manifests!.scopes;
    const type = (await sha256HexOfText(scopes.buildType)).slice(0, 16);
    const names: { own?: string; base?: string; default?: string } = {};
    if (scopes.own !== undefined) names.own = `${type}:${scopes.own}`;
    if (scopes.base !== undefined) names.base = `${type}:${scopes.base}`;
    if (scopes.default !== undefined) names.default = `${type}:${scopes.default}`;
    return names;
  }

  /** Reads the manifests (one round trip) and starts prefetching what is not local. */
  async #startPrefetch(remote: RemoteStore): Promise<void> {
    const manifests = this.#manifests!;
    if (remote.readManifests === undefined || manifests.prefetchMaxBytes <= 0) return;
    try {
      const names = await this.#manifestNames();
      const slots = (["own", "base", "default"] as const).filter((slot) =>
        names[slot] !== undefined
      );
      const values = await withDeadline(
        remote.readManifests(slots.map((slot) => names[slot]!)),
        this.#timeoutMillis,
        "reading build manifests",
      );
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
      const isLocal = (actionId: string): boolean => {
        if (this.#local.has !== undefined) return this.#local.has(actionId);
        const local = this.#local.get(actionId);
        return local !== undefined && !(local instanceof Promise);
      };
      const records = selectPrefetch(found, { isLocal, maxBytes: manifests.prefetchMaxBytes });
      if (records.length === 0 || this.#closing) return;
      this.#prefetcher = new Prefetcher({
        records,
        fetch: (actionId) =>
          (this.#fetches.get(actionId) ?? this.#startFetch(actionId, true)).then((hit) =>
            hit !== undefined
          ),
        skip: (actionId) => this.#fetches.has(actionId) || isLocal(actionId),
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

  /** Writes what this go command used to its manifests: its own scope's, and the default's on the default branch. */
  async #writeManifests(): Promise<void> {
    const manifests = this.#manifests;
    const remote = this.#remote;
    const records = this.#recorder?.records ?? [];
    if (
      manifests === undefined || !manifests.write || this.#readOnly || records.length === 0 ||
      remote?.writeManifest === undefined || !this.#breaker.allows()
    ) {
      return;
    }
    const names = await this.#manifestNames();
    const targets = [names.own, manifests.scopes.writesDefault ? names.default : undefined]
      .filter((name): name is string => name !== undefined);
    if (targets.length === 0) return;
    const jobHash =
      (await sha256HexOfText(manifests.scopes.jobId ?? `${Deno.pid}-${this.#startedAt}`)).slice(
        0,
        32,
      );
    const header = encodeManifestHeader(jobHash, Date.now());
    const body = encodeManifestRecords(records);
    for (const name of targets) {
      await withDeadline(
        remote.writeManifest(name, { jobHash, header, records: body }),
        this.#timeoutMillis,
        "writing",
      )
        .catch((error) =>
          this.#logger.warnOnce(
            "manifest-write",
            `cannot write the build manifest: ${messageOf(error)}`,
          )
        );
    }
  }

  #collectPrefetchMetrics(): void {
    const prefetch = this.#prefetcher?.metrics;
    if (prefetch === undefined) return;
    this.metrics.prefetchPlanned = prefetch.planned;
    this.metrics.prefetched = prefetch.fetched;
    this.metrics.prefetchedBytes = prefetch.fetchedBytes;
    this.metrics.prefetchUsed = prefetch.used;
    this.metrics.prefetchUsedBytes = prefetch.usedBytes;
  }

  /** Remote round trips the go command waited on (prefetches and companions excluded). */
  #demandRoundTrips(): number {
    return this.metrics.remoteHits + this.metrics.remoteMisses + this.metrics.remoteErrors;
  }

  #maybeProbe(): void {
    if (this.#probing || this.#remote === undefined || !this.#breaker.shouldProbe()) return;
    this.#probing = true;
    const remote = this.#remote;
    withDeadline(remote.ping(), this.#timeoutMillis, "probing")
      .then(
        () => this.#breaker.recordSuccess(),
        (error) => this.#breaker.recordFailure(messageOf(error)),
      )
      .finally(() => this.#probing = false);
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof DeadlineError || /timed? ?out/i.test(messageOf(error));
}

/**
 * Checks a remote entry against itself; returns what is wrong, or `undefined`. In the
 * background, the hash runs off the event loop's thread.
 */
async function verify(entry: RemoteEntry, background: boolean): Promise<string | undefined> {
  if (entry.body.length !== entry.size) {
    return `its body is ${entry.body.length} bytes, not ${entry.size}`;
  }
  let digest: string;
  if (background) {
    digest = await sha256HexOffThread(entry.body);
  } else {
    const hash = (await loadSha256())();
    hash.update(entry.body);
    digest = hash.digestHex();
  }
  return digest === entry.outputId ? undefined : "its body's SHA-256 is not its OutputID";
}
