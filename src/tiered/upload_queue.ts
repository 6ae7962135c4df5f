/**
 * Uploads to the remote, in the background after each put has been answered from the
 * local store: a few at a time, within a budget of body bytes in flight (each body is
 * read back from its local file, a piece at a time, as the remote takes it), skipped
 * when the remote already holds the output. Uploads wait in the queue while the remote connects, and while its
 * breaker is open, and go on once it is back; the queue's bound counts what did not fit.
 * Nothing here ever fails a put: an upload that cannot be made is counted as dropped or
 * failed.
 *
 * @module
 */

import { MAX_REMOTE_ENTRY_BYTES } from "../store.ts";
import { openFileBody } from "../local/file_body.ts";
import type { RemoteLink } from "./remote_link.ts";
import type { TierMetrics } from "./tier_metrics.ts";
import type { Logger } from "../util/log.ts";
import { withDeadline } from "../util/deadline.ts";
import { formatBytes } from "../util/format.ts";
import { DEFAULT_MAX_QUEUED_UPLOADS, DEFAULT_UPLOAD_CONCURRENCY } from "./defaults.ts";

/** Bytes of upload bodies held in memory at once, beyond the first upload. */
const UPLOAD_BYTES_IN_FLIGHT = 128 << 20;

/** One entry to upload, as the local store holds it. */
export interface Upload {
  /** The ActionID in hex. */
  actionId: string;
  /** The OutputID in hex. */
  outputId: string;
  /** The body size in bytes. */
  size: number;
  /** The put time, in Unix nanoseconds. */
  timeNanos: bigint;
  /** The local file holding the body. */
  diskPath: string;
  /** How long the go command took to produce the entry, when known. */
  computeMillis?: number | undefined;
}

/** Options for {@linkcode UploadQueue}. */
export interface UploadQueueOptions {
  /** The link to the remote. */
  link: RemoteLink;
  /** The tier's counters. */
  metrics: TierMetrics;
  /** Where the note about unfinished uploads goes. */
  logger: Logger;
  /**
   * Whether the remote is known not to hold an action (it missed it this session), so
   * that asking again can be skipped.
   */
  knownMissing: (actionId: string) => boolean;
  /**
   * Uploads running at once.
   *
   * @default {4}
   */
  concurrency?: number;
  /**
   * Uploads waiting at most; more are dropped.
   *
   * @default {10000}
   */
  maxQueued?: number;
}

/** Uploads entries in the background, bounded in number and in memory. */
export class UploadQueue {
  #link: RemoteLink;
  #metrics: TierMetrics;
  #logger: Logger;
  #knownMissing: (actionId: string) => boolean;
  #concurrency: number;
  #maxQueued: number;
  #queue: Upload[] = [];
  #active = 0;
  #activeBytes = 0;
  #idle: (() => void) | undefined;
  #closed = false;

  /**
   * Creates an empty queue.
   *
   * @param options The link, the counters and the bounds.
   */
  constructor(options: UploadQueueOptions) {
    this.#link = options.link;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#knownMissing = options.knownMissing;
    this.#concurrency = options.concurrency ?? DEFAULT_UPLOAD_CONCURRENCY;
    this.#maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED_UPLOADS;
  }

  /**
   * Queues an upload, or drops it (counted) when the queue is full, the entry too large,
   * or the queue draining.
   *
   * @param upload The entry.
   */
  add(upload: Upload): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#maxQueued || upload.size > MAX_REMOTE_ENTRY_BYTES) {
      this.#metrics.uploadsDropped++;
      return;
    }
    this.#queue.push(upload);
    this.#pump();
  }

  /** Whether uploads are queued or running. */
  busy(): boolean {
    return this.#queue.length > 0 || this.#active > 0;
  }

  /**
   * Stops taking uploads and waits for those queued or running, at most `waitMillis`,
   * and not at all while the remote is down (they could not go on). What is left is
   * counted as dropped; when the remote was up or connecting, it is said in one line.
   *
   * @param waitMillis The longest wait.
   */
  async drain(waitMillis: number): Promise<void> {
    this.#closed = true;
    if (this.busy()) {
      const idle = new Promise<void>((resolve) => this.#idle = resolve);
      await withDeadline(Promise.race([idle, this.#link.down()]), waitMillis, "waiting for uploads")
        .catch(() => {});
    }
    const left = this.#queue.length + this.#active;
    if (left === 0) return;
    const bytes = this.#queue.reduce((sum, upload) => sum + upload.size, 0);
    // The ones running are waiting for the remote or transferring: they end on their own.
    this.#metrics.uploadsDropped += this.#queue.length;
    this.#queue = [];
    if (this.#link.state === "down") return; // the warning that it is down said it all
    this.#logger.info(
      `${left} uploads (${formatBytes(bytes)} queued) were not finished within the upload wait ` +
        `(${waitMillis} ms): those entries are in the local cache but not in ` +
        `${this.#link.remote?.description ?? "the remote cache"}`,
    );
  }

  /** Starts queued uploads, a few at a time and within a budget of bytes in memory. */
  #pump(): void {
    while (this.#queue.length > 0 && this.#active < this.#concurrency) {
      const next = this.#queue[0]!;
      if (this.#active > 0 && this.#activeBytes + next.size > UPLOAD_BYTES_IN_FLIGHT) break;
      this.#queue.shift();
      this.#active++;
      this.#activeBytes += next.size;
      this.#upload(next).finally(() => {
        this.#active--;
        this.#activeBytes -= next.size;
        if (this.busy()) this.#pump();
        else this.#idle?.();
      });
    }
  }

  async #upload(upload: Upload): Promise<void> {
    const metrics = this.#metrics;
    // Waits through connecting, and while the breaker is open, for the remote to be back.
    const remote = await this.#link.usable();
    if (remote === undefined) {
      metrics.uploadsDropped++;
      return;
    }
    try {
      // After a remote miss of this very action, asking again would only cost a round trip.
      if (
        !this.#knownMissing(upload.actionId) && await remote.has(upload.actionId, upload.outputId)
      ) {
        metrics.uploadsSkipped++;
        return;
      }
      using body = await openFileBody(upload.diskPath, upload.size);
      if (body === undefined) {
        metrics.uploadsDropped++; // the file is gone (go clean -cache): nothing to upload
        return;
      }
      await remote.put(upload.actionId, {
        outputId: upload.outputId,
        size: upload.size,
        timeNanos: upload.timeNanos,
        body,
        ...(upload.computeMillis === undefined ? {} : { computeMillis: upload.computeMillis }),
      });
      metrics.uploads++;
      metrics.bytesUploaded += upload.size;
      this.#link.succeeded();
    } catch (error) {
      metrics.uploadsFailed++;
      this.#link.failed(error);
    }
  }
}
