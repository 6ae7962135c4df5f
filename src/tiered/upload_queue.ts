/**
 * Uploads to the remote, in the background after each put has been answered from the
 * local store: a few at a time, within a budget of body bytes in flight (each body is
 * read back from the local store, a piece at a time, as the remote takes it), skipped
 * when the remote already holds the output. Uploads wait in the queue while the remote
 * connects, and while its breaker is open, and go on once it is back; the queue's bound
 * counts what did not fit. Nothing here ever fails a put: an upload that cannot be made
 * is counted as dropped or failed.
 *
 * @module
 */

import { type EntryDescription, type LocalStore, MAX_REMOTE_ENTRY_BYTES } from "../store.ts";
import type { Counted, Counters } from "../metrics.ts";
import type { RemoteLink } from "./remote_link.ts";
import type { Logger } from "../util/log.ts";
import { type Clock, withDeadline } from "../util/clock.ts";
import { formatBytes } from "../util/format.ts";
import {
  DEFAULT_MAX_QUEUED_UPLOADS,
  DEFAULT_UPLOAD_CONCURRENCY,
  UPLOAD_BYTES_IN_FLIGHT,
} from "./defaults.ts";

/** One entry to upload, as the local store holds it, and what is known of the remote. */
export interface Upload extends EntryDescription {
  /** The ActionID in hex. */
  actionId: string;
  /**
   * The remote missed this action in this session: asking whether it holds it would
   * only cost a round trip.
   */
  remoteMissed: boolean;
}

/** Options for {@linkcode UploadQueue}. */
export interface UploadQueueOptions {
  /** The link to the remote. */
  link: RemoteLink;
  /** Where the bodies are read from. */
  local: LocalStore;
  /** Where the note about unfinished uploads goes. */
  logger: Logger;
  /** The clock the wait at close is measured on. */
  clock: Clock;
  /**
   * Told of each upload once it has been made or given up (uploaded, found there, failed
   * or dropped), but for those still queued at close: the end of the action's lease, in
   * single flight (the leases left are ended together at close).
   */
  onFinished?: (actionId: string) => void;
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
export class UploadQueue implements Counted {
  #link: RemoteLink;
  #local: LocalStore;
  #logger: Logger;
  #clock: Clock;
  #concurrency: number;
  #maxQueued: number;
  #onFinished: ((actionId: string) => void) | undefined;
  #queue: Upload[] = [];
  #running = 0;
  #runningBytes = 0;
  #idle: (() => void) | undefined;
  #closed = false;
  #counts = {
    uploads: 0,
    uploadsSkipped: 0,
    uploadsFailed: 0,
    uploadsDropped: 0,
    bytesUploaded: 0,
  };

  /**
   * Creates an empty queue.
   *
   * @param options The link, the local store and the bounds.
   */
  constructor(options: UploadQueueOptions) {
    this.#link = options.link;
    this.#local = options.local;
    this.#logger = options.logger;
    this.#clock = options.clock;
    this.#concurrency = options.concurrency ?? DEFAULT_UPLOAD_CONCURRENCY;
    this.#maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED_UPLOADS;
    this.#onFinished = options.onFinished;
  }

  /**
   * The counters: entries uploaded (`uploads`, with `bytesUploaded`), skipped because
   * the remote held them (`uploadsSkipped`), failed (`uploadsFailed`), and not attempted
   * (`uploadsDropped`: queue full, too large, remote gone, still queued at close).
   *
   * @returns The counters.
   */
  counters(): Counters {
    return { ...this.#counts };
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
      this.#counts.uploadsDropped++;
      this.#onFinished?.(upload.actionId);
      return;
    }
    this.#queue.push(upload);
    this.#pump();
  }

  /**
   * Whether uploads are queued or running.
   *
   * @returns `true` while any is.
   */
  busy(): boolean {
    return this.#queue.length > 0 || this.#running > 0;
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
      await withDeadline(
        Promise.race([idle, this.#link.untilDown()]),
        waitMillis,
        "waiting for uploads",
        this.#clock,
      ).catch(() => {});
    }
    const left = this.#queue.length + this.#running;
    if (left === 0) return;
    const bytes = this.#queue.reduce((sum, upload) => sum + upload.size, 0);
    // The ones running are waiting for the remote or transferring: they end on their own.
    this.#counts.uploadsDropped += this.#queue.length;
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
    while (this.#queue.length > 0 && this.#running < this.#concurrency) {
      const next = this.#queue[0]!;
      if (this.#running > 0 && this.#runningBytes + next.size > UPLOAD_BYTES_IN_FLIGHT) break;
      this.#queue.shift();
      this.#running++;
      this.#runningBytes += next.size;
      this.#upload(next).finally(() => {
        this.#onFinished?.(next.actionId);
        this.#running--;
        this.#runningBytes -= next.size;
        if (this.busy()) this.#pump();
        else this.#idle?.();
      });
    }
  }

  async #upload(upload: Upload): Promise<void> {
    const counts = this.#counts;
    // Waits through connecting, and while the breaker is open, for the remote to be back.
    const remote = await this.#link.untilUp();
    if (remote === undefined) {
      counts.uploadsDropped++;
      return;
    }
    try {
      if (!upload.remoteMissed && await remote.has(upload.actionId, upload.outputId)) {
        counts.uploadsSkipped++;
        return;
      }
      using body = await this.#local.openOutput(upload.outputId, upload.size);
      if (body === undefined) {
        counts.uploadsDropped++; // the file is gone (go clean -cache): nothing to upload
        return;
      }
      await remote.put(upload.actionId, {
        outputId: upload.outputId,
        size: upload.size,
        timeNanos: upload.timeNanos,
        body,
        ...(upload.computeMillis === undefined ? {} : { computeMillis: upload.computeMillis }),
      });
      counts.uploads++;
      counts.bytesUploaded += upload.size;
      this.#link.succeeded();
    } catch (error) {
      counts.uploadsFailed++;
      this.#link.failed(error);
    }
  }
}
