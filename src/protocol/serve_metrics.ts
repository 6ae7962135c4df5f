/**
 * What the protocol engine counts while serving one go command.
 *
 * @module
 */

import type { Counted, Counters } from "../metrics.ts";

/** What the protocol engine counts. All times are in milliseconds. */
export class ServeMetrics implements Counted {
  /** `get` requests received: each is answered by exactly one of a hit, a miss or an error. */
  gets = 0;
  /** Gets answered with a hit. */
  hits = 0;
  /** Of the hits, those answered from the local store. */
  localHits = 0;
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
  /**
   * Compile time the hits replaced: for each hit whose entry says how long it took to
   * produce, that time. Summed over actions that may have run in parallel, so it is
   * CPU-like time, not wall time.
   */
  compileMillisReplaced = 0;
  /**
   * The largest resident set size seen when sampled (after each put body, and every few
   * MiB within one). Sampled, because the kernel's own peak (`getrusage`) also counts
   * the parent process's memory when it spawned this one with vfork, as Go does.
   */
  peakRssBytes = 0;
  /** When serving started, from `performance.now()`. */
  readonly startedAt: number = performance.now();

  /**
   * The counters, with the time since serving started (`elapsedMillis`) and the peak
   * memory sampled now.
   *
   * @returns The counters.
   */
  counters(): Counters {
    this.sampleRss();
    return {
      gets: this.gets,
      hits: this.hits,
      localHits: this.localHits,
      remoteHits: this.remoteHits,
      misses: this.misses,
      getErrors: this.getErrors,
      puts: this.puts,
      putErrors: this.putErrors,
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
      getMillis: Math.round(this.getMillis),
      putMillis: Math.round(this.putMillis),
      compileMillisReplaced: Math.round(this.compileMillisReplaced),
      elapsedMillis: Math.round(performance.now() - this.startedAt),
      peakRssBytes: this.peakRssBytes,
    };
  }

  /** Samples the current resident set size into {@linkcode ServeMetrics.peakRssBytes}. */
  sampleRss(): void {
    const rss = Deno.memoryUsage().rss;
    if (rss > this.peakRssBytes) this.peakRssBytes = rss;
  }
}
