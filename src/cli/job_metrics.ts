/**
 * Job-level metrics. A CI job runs many go commands; with `--metrics-file` each appends
 * one JSON line, and `gocacheprog stats --metrics-file` adds them up.
 *
 * Appending is safe across processes: every line is written with one `write` on a file
 * opened with `O_APPEND`, and lines are far shorter than the size the kernel appends at
 * once.
 *
 * @module
 */

import { formatBytes, formatMillis } from "../util/format.ts";

/**
 * Appends one record as a JSON line.
 *
 * @param path The metrics file; created if missing.
 * @param record The go command's counters.
 */
export function appendMetricsLine(path: string, record: Record<string, unknown>): void {
  const line = new TextEncoder().encode(JSON.stringify(record) + "\n");
  const file = Deno.openSync(path, { append: true, create: true, mode: 0o666 });
  try {
    if (file.writeSync(line) !== line.length) throw new Error(`Short write to ${path}`);
  } finally {
    file.close();
  }
}

/** The sums over a metrics file. */
export interface JobTotals {
  /** Go commands (lines). */
  commands: number;
  /** Lines that were not valid records (a crash mid-write, say), skipped. */
  badLines: number;
  /** Every numeric field, summed. */
  sums: Record<string, number>;
}

/**
 * Adds up the records of a metrics file.
 *
 * @param text The file's contents.
 * @returns The totals.
 */
export function sumMetrics(text: string): JobTotals {
  const totals: JobTotals = { commands: 0, badLines: 0, sums: {} };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      totals.badLines++;
      continue;
    }
    if (typeof record !== "object" || record === null) {
      totals.badLines++;
      continue;
    }
    totals.commands++;
    for (const [key, value] of Object.entries(record)) {
      if (typeof value === "number" && Number.isFinite(value)) {
        totals.sums[key] = (totals.sums[key] ?? 0) + value;
      }
    }
  }
  return totals;
}

/**
 * Formats the totals for people.
 *
 * @param totals From {@linkcode sumMetrics}.
 * @returns Lines of text, ending in a newline.
 */
export function formatJobTotals(totals: JobTotals): string {
  const n = (key: string) => totals.sums[key] ?? 0;
  const rate = n("gets") === 0 ? 0 : (100 * n("hits")) / n("gets");
  const lines = [
    `go commands: ${totals.commands}${
      totals.badLines > 0 ? ` (${totals.badLines} unreadable lines skipped)` : ""
    }`,
    `gets: ${n("gets")}, hit rate ${rate.toFixed(1)}% (${n("localHits")} local, ${
      n("remoteHits")
    } remote), ` +
    `${n("misses")} misses, ${n("getErrors")} errors`,
    `puts: ${n("puts")} (${n("putErrors")} errors)`,
    `bytes: ${formatBytes(n("bytesRead"))} read, ${formatBytes(n("bytesWritten"))} written, ` +
    `${formatBytes(n("bytesDownloaded"))} downloaded, ${formatBytes(n("bytesUploaded"))} uploaded`,
    `waiting on Redis: ${formatMillis(n("demandWaitMillis"))}; remote errors ${
      n("demandErrors")
    }, ` +
    `corrupt ${n("corrupt")}, breaker trips ${n("breakerTrips")}`,
    `uploads: ${n("uploads")} done, ${n("uploadsSkipped")} already there, ${
      n("uploadsFailed")
    } failed, ` +
    `${n("uploadsDropped")} dropped`,
    `fleet: ${n("fleetLeasesTaken")} actions claimed, ${n("fleetWaits")} waits on other ` +
    `runners (${n("fleetWaitHits")} served by their upload, ${n("fleetTakeovers")} taken over, ` +
    `${n("fleetWaitsGivenUp")} given up), ${formatMillis(n("fleetWaitMillis"))} waited`,
    `compile time the hits replaced: ${formatMillis(n("compileMillisReplaced"))} of the ` +
    "compiler's own time, summed over actions (they run in parallel, so it is not wall " +
    `time); the go commands ran ${formatMillis(n("elapsedMillis"))} in all`,
  ];
  return lines.join("\n") + "\n";
}
