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

import type { Hit, LocalStore, PutRequest, PutWriter, RemoteEntry, RemoteStore } from "./store.ts";
import { CorruptEntryError } from "./store.ts";
import { CircuitBreaker } from "./circuit_breaker.ts";
import { DeadlineError, withDeadline } from "./deadline.ts";
import type { Logger } from "./log.ts";
import { loadSha256 } from "./sha256.ts";
import { formatBytes } from "./metrics.ts";
import { messageOf } from "./wire.ts";

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
  /** Actions the remote did not have, this session: their uploads need not ask again. */
  #missedRemotely = new Set<string>();
  #queue: Upload[] = [];
  #activeUploads = 0;
  #uploadsIdle: (() => void) | undefined;
  #probing = false;
  #closing = false;
  #connectSettled = false;
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
    const local = this.#local.get(actionId);
    if (local instanceof Promise) return local.then((hit) => hit ?? this.#getRemote(actionId));
    if (local !== undefined) return local;
    return this.#getRemote(actionId);
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

  /** Background work needs the event loop while connecting, uploading or probing. */
  busy(): boolean {
    return !this.#connectSettled || this.#queue.length > 0 || this.#activeUploads > 0 ||
      this.#fetches.size > 0 || this.#probing;
  }

  async close(): Promise<void> {
    this.#closing = true;
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
    await this.#remote?.close().catch(() => {});
    await this.#local.close();
  }

  counters(): Record<string, number> {
    return { ...this.metrics, breakerTrips: this.#breaker.trips };
  }

  summary(): string {
    const m = this.metrics;
    return [
      `remote: ${m.remoteHits} hits, ${m.remoteMisses} misses, ${m.remoteErrors} errors, `,
      `${m.corrupt} corrupt, ${m.skipped} not asked; `,
      `${formatBytes(m.bytesDownloaded)} downloaded, ${formatBytes(m.bytesUploaded)} uploaded; `,
      `${m.uploads} uploads, ${m.uploadsSkipped} already there, ${m.uploadsFailed} failed, `,
      `${m.uploadsDropped} dropped; breaker trips ${this.#breaker.trips}; `,
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
    const fetch = this.#fetch(actionId).finally(() => this.#fetches.delete(actionId));
    this.#fetches.set(actionId, fetch);
    return fetch;
  }

  async #fetch(actionId: string): Promise<Hit | undefined> {
    const remote = await this.#connecting;
    if (remote === undefined || !this.#breaker.allows()) {
      this.metrics.skipped++;
      return undefined;
    }
    const started = performance.now();
    let entry: RemoteEntry | undefined;
    try {
      entry = await remote.get(actionId);
      this.#breaker.recordSuccess();
    } catch (error) {
      this.metrics.remoteMillis += performance.now() - started;
      if (error instanceof CorruptEntryError) {
        this.#corrupt(remote, actionId, error.message);
        return undefined;
      }
      this.metrics.remoteErrors++;
      this.#breaker.recordFailure(messageOf(error), isTimeout(error));
      return undefined;
    }
    this.metrics.remoteMillis += performance.now() - started;
    if (entry === undefined) {
      this.metrics.remoteMisses++;
      if (this.#missedRemotely.size < 100_000) this.#missedRemotely.add(actionId);
      return undefined;
    }
    const problem = await verify(entry);
    if (problem !== undefined) {
      this.#corrupt(remote, actionId, problem);
      return undefined;
    }
    const writer = this.#local.startPut({
      actionId,
      outputId: entry.outputId,
      size: entry.size,
      timeNanos: entry.timeNanos,
      ...(entry.computeMillis === undefined ? {} : { computeMillis: entry.computeMillis }),
    });
    try {
      await writer.write(entry.body);
      const hit = await writer.commit();
      this.metrics.remoteHits++;
      this.metrics.bytesDownloaded += entry.size;
      return {
        ...hit,
        source: "remote",
        ...(entry.computeMillis === undefined ? {} : { computeMillis: entry.computeMillis }),
      };
    } catch (error) {
      await writer.abort().catch(() => {});
      throw error;
    }
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

/** Checks a remote entry against itself; returns what is wrong, or `undefined`. */
async function verify(entry: RemoteEntry): Promise<string | undefined> {
  if (entry.body.length !== entry.size) {
    return `its body is ${entry.body.length} bytes, not ${entry.size}`;
  }
  const hash = (await loadSha256())();
  hash.update(entry.body);
  const digest = hash.digestHex();
  return digest === entry.outputId ? undefined : "its body's SHA-256 is not its OutputID";
}
