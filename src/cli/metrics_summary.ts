/**
 * The `--log-metrics` summary, read from the metrics record: one line of what the
 * protocol engine counted, and one of the remote tier's parts when there is one.
 *
 * @module
 */

import { formatBytes, formatMillis } from "../util/format.ts";

/** A metrics record, as `MetricsRegistry.record()` gives it. */
export type MetricsRecord = Readonly<Record<string, number>>;

/**
 * The engine's line.
 *
 * @param r The record.
 * @returns The line, without a newline.
 */
export function serveSummary(r: MetricsRecord): string {
  const n = (name: string) => r[name] ?? 0;
  const hits = n("remoteHits") > 0
    ? `${n("hits")} hits: ${n("localHits")} local, ${n("remoteHits")} remote`
    : `${n("hits")} hits`;
  return `${n("gets")} gets (${hits}, ${n("misses")} misses, ${n("getErrors")} errors)` +
    `, ${n("puts")} puts (${n("putErrors")} errors)` +
    `; ${formatBytes(n("bytesRead"))} read, ${formatBytes(n("bytesWritten"))} written` +
    `; time in gets ${formatMillis(n("getMillis"))}, in puts ${formatMillis(n("putMillis"))}` +
    `, up ${formatMillis(n("elapsedMillis"))}` +
    (n("compileMillisReplaced") > 0
      ? `; the hits replaced ${formatMillis(n("compileMillisReplaced"))} of compiling`
      : "") +
    `; peak RSS ${formatBytes(n("peakRssBytes"))} (sampled)`;
}

/**
 * The remote tier's line.
 *
 * @param r The record.
 * @returns The line, without a newline.
 */
export function remoteSummary(r: MetricsRecord): string {
  const n = (name: string) => r[name] ?? 0;
  return [
    `remote: ${n("demandFound")} hits, ${n("demandMisses")} misses, ${n("demandErrors")} errors, `,
    `${n("corrupt")} corrupt, ${n("demandSkipped")} not asked; `,
    `${formatBytes(n("bytesDownloaded"))} downloaded, ${
      formatBytes(n("bytesUploaded"))
    } uploaded; `,
    `${n("uploads")} uploads, ${n("uploadsSkipped")} already there, ${n("uploadsFailed")} failed, `,
    `${n("uploadsDropped")} dropped; breaker trips ${n("breakerTrips")}; `,
    `stdout companions fetched ${n("companionsFetched")}, used ${n("companionsUsed")}; `,
    `prefetched ${n("prefetched")} of ${n("prefetchPlanned")} (${
      formatBytes(n("prefetchedBytes"))
    }), `,
    `used ${n("prefetchUsed")} (${formatBytes(n("prefetchUsedBytes"))}), unused `,
    `${formatBytes(n("prefetchedBytes") - n("prefetchUsedBytes"))}; `,
    `demand round trips ${n("demandRoundTrips")}; `,
    `waited on remote gets ${Math.round(n("demandWaitMillis"))} ms; `,
    fleetSummary(r),
  ].join("");
}

/**
 * Single flight's part of the remote tier's line.
 *
 * @param r The record.
 * @returns The part, without a newline.
 */
export function fleetSummary(r: MetricsRecord): string {
  const n = (name: string) => r[name] ?? 0;
  return [
    `fleet: ${n("fleetLeasesTaken")} leases taken (${n("fleetLeasesReleased")} released after `,
    `upload, ${n("fleetLeasesReleasedAtClose")} at close, ${n("fleetLeasesLost")} lost), `,
    `${n("fleetWaits")} waits on other runners (${n("fleetWaitHits")} served, `,
    `${n("fleetTakeovers")} taken over, ${n("fleetWaitsGivenUp")} given up) for `,
    `${Math.round(n("fleetWaitMillis"))} ms`,
  ].join("");
}
