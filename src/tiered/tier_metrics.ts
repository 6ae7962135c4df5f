/**
 * What the remote tier counts, in one object shared by its parts (the link, the
 * fetcher, the companions, the upload queue and the manifest session), and the line
 * `--log-metrics` prints.
 *
 * @module
 */

import { formatBytes } from "../util/format.ts";

/** The remote tier's counters. Byte counts are body bytes; times are in milliseconds. */
export class TierMetrics {
  /** Gets answered from the remote. */
  remoteHits = 0;
  /** Local misses that the remote did not have either. */
  remoteMisses = 0;
  /** Remote gets that failed (timeouts, errors). */
  remoteErrors = 0;
  /** Remote values that were not valid entries. */
  corrupt = 0;
  /** Gets answered as misses without asking the remote: not connected, or its breaker open. */
  skipped = 0;
  /** Body bytes downloaded from the remote. */
  bytesDownloaded = 0;
  /** Body bytes uploaded to the remote. */
  bytesUploaded = 0;
  /** Entries uploaded. */
  uploads = 0;
  /** Uploads skipped because the remote already held the entry. */
  uploadsSkipped = 0;
  /** Uploads that failed. */
  uploadsFailed = 0;
  /** Uploads not attempted: queue full, remote unavailable, or still queued at exit. */
  uploadsDropped = 0;
  /** Time spent waiting on remote gets. */
  remoteMillis = 0;
  /** "stdout" companions fetched with their compile, in the same round trip. */
  companionsFetched = 0;
  /** Of those, the ones the go command then asked for. */
  companionsUsed = 0;
  /** Entries the manifests named that were not local. */
  prefetchPlanned = 0;
  /** Entries prefetched. */
  prefetched = 0;
  /** Their bytes. */
  prefetchedBytes = 0;
  /** Prefetched entries the go command then asked for. */
  prefetchUsed = 0;
  /** Their bytes. */
  prefetchUsedBytes = 0;
  /** How many times the circuit breaker opened. */
  breakerTrips = 0;

  /** Remote round trips the go command waited on (prefetches and companions excluded). */
  get demandRoundTrips(): number {
    return this.remoteHits + this.remoteMisses + this.remoteErrors;
  }

  /**
   * The counters by name, for `--metrics-file`.
   *
   * @returns Every counter.
   */
  toRecord(): Record<string, number> {
    const record: Record<string, number> = {};
    for (const [name, value] of Object.entries(this)) {
      if (typeof value === "number") record[name] = value;
    }
    record.demandRoundTrips = this.demandRoundTrips;
    return record;
  }

  /**
   * The one-line summary printed at close.
   *
   * @returns The summary, without a newline.
   */
  summary(): string {
    return [
      `remote: ${this.remoteHits} hits, ${this.remoteMisses} misses, ${this.remoteErrors} errors, `,
      `${this.corrupt} corrupt, ${this.skipped} not asked; `,
      `${formatBytes(this.bytesDownloaded)} downloaded, ${
        formatBytes(this.bytesUploaded)
      } uploaded; `,
      `${this.uploads} uploads, ${this.uploadsSkipped} already there, ${this.uploadsFailed} failed, `,
      `${this.uploadsDropped} dropped; breaker trips ${this.breakerTrips}; `,
      `stdout companions fetched ${this.companionsFetched}, used ${this.companionsUsed}; `,
      `prefetched ${this.prefetched} of ${this.prefetchPlanned} (${
        formatBytes(this.prefetchedBytes)
      }), `,
      `used ${this.prefetchUsed} (${formatBytes(this.prefetchUsedBytes)}), unused `,
      `${formatBytes(this.prefetchedBytes - this.prefetchUsedBytes)}; `,
      `demand round trips ${this.demandRoundTrips}; `,
      `waited on remote gets ${Math.round(this.remoteMillis)} ms`,
    ].join("");
  }
}
