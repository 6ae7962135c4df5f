/**
 * Counters kept while serving one go command, and the summary `--log-metrics` prints.
 *
 * @module
 */

import { formatBytes, formatMillis } from "../util/format.ts";

/** What the protocol engine counts. All times are in milliseconds. */
export class ServeMetrics {
  /** `get` requests received. */
  gets = 0;
  /** Gets answered with a hit. */
  hits = 0;
  /** Of the hits, those a remote tier answered. */
  remoteHits = 0;
  /** Gets answered with a miss. */
  misses = 0;
  /** Gets answered with an error. */
  getErrors = 0;
  /** `put` requests received. */
  puts = 0;
  /** Puts answered with an error. */
  putErrors = 0;
  /** Bytes of the outputs handed out on hits. */
  bytesRead = 0;
  /** Bytes of put bodies received. */
  bytesWritten = 0;
  /** Time from receiving each get to answering it, summed. */
  getMillis = 0;
  /** Time from receiving each put (its body included) to answering it, summed. */
  putMillis = 0;
  /** Compile time the hits saved: for each hit, how long its entry took to produce, when known. */
  savedMillis = 0;
  /**
   * The largest resident set size seen when sampled (after each put body, and every few
   * MiB within one). Sampled, because the kernel's own peak (`getrusage`) also counts
   * the parent process's memory when it spawned this one with vfork, as Go does.
   */
  peakRssBytes = 0;
  /** When serving started, from `performance.now()`. */
  readonly startedAt: number = performance.now();

  /**
   * The counters as one JSON object, for `--metrics-file`.
   *
   * @param extra More counters (a remote tier's) to include.
   * @returns The object.
   */
  toRecord(extra: Record<string, number> = {}): Record<string, number | string> {
    this.sampleRss();
    return {
      time: new Date().toISOString(),
      gets: this.gets,
      hits: this.hits,
      localHits: this.hits - this.remoteHits,
      remoteHits: this.remoteHits,
      misses: this.misses,
      getErrors: this.getErrors,
      puts: this.puts,
      putErrors: this.putErrors,
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
      savedMillis: Math.round(this.savedMillis),
      elapsedMillis: Math.round(performance.now() - this.startedAt),
      peakRssBytes: this.peakRssBytes,
      ...extra,
    };
  }

  /** Samples the current resident set size into {@linkcode ServeMetrics.peakRssBytes}. */
  sampleRss(): void {
    const rss = Deno.memoryUsage().rss;
    if (rss > this.peakRssBytes) this.peakRssBytes = rss;
  }

  /**
   * Formats the one-line summary printed at close.
   *
   * @returns The summary, without a newline.
   */
  summary(): string {
    this.sampleRss();
    const elapsed = performance.now() - this.startedAt;
    const hits = this.remoteHits > 0
      ? `${this.hits} hits: ${this.hits - this.remoteHits} local, ${this.remoteHits} remote`
      : `${this.hits} hits`;
    return `${this.gets} gets (${hits}, ${this.misses} misses, ${this.getErrors} errors)` +
      `, ${this.puts} puts (${this.putErrors} errors)` +
      `; ${formatBytes(this.bytesRead)} read, ${formatBytes(this.bytesWritten)} written` +
      `; time in gets ${formatMillis(this.getMillis)}, in puts ${formatMillis(this.putMillis)}` +
      `, up ${formatMillis(elapsed)}` +
      (this.savedMillis > 0 ? `; saved about ${formatMillis(this.savedMillis)} of compiling` : "") +
      `; peak RSS ${formatBytes(this.peakRssBytes)} (sampled)`;
  }
}
