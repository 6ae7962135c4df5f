/**
 * Serving the go command (what `GOCACHEPROG` runs): the protocol engine over stdin and
 * stdout, the store opened after the handshake, then the summary, the metrics line and
 * the daily trim.
 *
 * @module
 */

import type { CommandContext } from "./context.ts";
import { Logger } from "../../util/log.ts";
import type { MetricsRegistry } from "../../metrics.ts";
import { ServeMetrics } from "../../protocol/serve_metrics.ts";
import { serve } from "../../protocol/serve.ts";
import { messageOf } from "../../errors.ts";
import { trimStore } from "../../local/trim.ts";
import { writeStdoutOrExit } from "../stdout.ts";

/** The most one go command spends trimming; the next one resumes where it stopped. */
const TRIM_BUDGET_MILLIS = 30;

/**
 * Serves one go command over stdin and stdout, then reports and trims.
 *
 * @param context The configuration and the Redis settings.
 * @returns The exit status: 0, or 1 when the input could not be followed.
 */
export async function runServe(context: CommandContext): Promise<number> {
  const { config, dir } = context;
  const logger = new Logger();
  const serveMetrics = new ServeMetrics();
  // Made with the store, after the handshake: nothing before it that the handshake can wait for.
  let metrics: MetricsRegistry | undefined;
  if (config.redisPasswordOnCommandLine) {
    logger.warnOnce(
      "password-flag",
      "--redis-password is visible in process lists and in `go env`; " +
        "use GOCACHEPROG_REDIS_PASSWORD or --redis-password-file instead",
    );
  }
  if (Deno.stdin.isTerminal()) {
    // A person ran it: the go command is what starts it, and speaks to it through a pipe.
    logger.info(
      "this program serves the go command's build cache, and the go command starts it: " +
        'set GOCACHEPROG="gocacheprog" and run go build (see gocacheprog --help); ' +
        "meanwhile it reads GOCACHEPROG requests here",
    );
  }
  if (context.remoteProblem !== undefined) {
    logger.warnOnce(
      "remote-settings",
      `Redis cannot be used: ${context.remoteProblem}; building from the local cache alone`,
    );
  }
  try {
    // Called once the handshake is written.
    const openStore = async () => {
      listenForSignals();
      const [{ openCacheStore }, { MetricsRegistry }] = await Promise.all([
        import("../open_store.ts"),
        import("../../metrics.ts"),
      ]);
      metrics = new MetricsRegistry();
      metrics.register("serve", serveMetrics);
      return await openCacheStore({
        config,
        dir,
        remote: context.remote,
        logger,
        metrics,
      });
    };
    await serve(openStore, {
      input: Deno.stdin,
      output: writeStdoutOrExit,
      logger,
      metrics: serveMetrics,
      logRequests: config.logRequests,
      logResponses: config.logResponses,
    });
  } catch (error) {
    logger.info(`fatal: ${messageOf(error)}`);
    return 1;
  }
  if (metrics !== undefined && (config.logMetrics || config.metricsFile !== undefined)) {
    const record = metrics.record();
    if (config.logMetrics) {
      const { remoteSummary, serveSummary } = await import("../metrics_summary.ts");
      logger.info(serveSummary(record));
      if (metrics.has("link")) logger.info(remoteSummary(record));
    }
    if (config.metricsFile !== undefined) {
      try {
        const { appendMetricsLine } = await import("../job_metrics.ts");
        appendMetricsLine(config.metricsFile, { time: new Date().toISOString(), ...record });
      } catch (error) {
        logger.warnOnce(
          "metrics-file",
          `cannot append to ${config.metricsFile}: ${messageOf(error)}`,
        );
      }
    }
  }
  if (config.trimAgeMillis > 0) {
    // After the close reply, as the go command trims its own cache at the end of a build:
    // at most once a day, and time-boxed, so that no single go command waits long.
    try {
      trimStore(dir, {
        ageMillis: config.trimAgeMillis,
        budgetMillis: TRIM_BUDGET_MILLIS,
        ...(config.maxSizeBytes === undefined ? {} : { maxSizeBytes: config.maxSizeBytes }),
      });
    } catch (error) {
      logger.warnOnce("trim", `trimming ${dir} failed: ${messageOf(error)}`);
    }
  }
  return 0;
}

/**
 * Signals a session must survive. Set once the handshake is written: the go command has
 * not started its work before, and setting them takes a few milliseconds.
 */
function listenForSignals(): void {
  // Ctrl-C reaches the whole process group: the go command handles it and closes our
  // stdin, and we finish cleanly on that end of input instead of dying mid-write.
  Deno.addSignalListener("SIGINT", () => {});
  // Past a file-size limit (`ulimit -f`) a write would kill the process, leaving its
  // temporary file; ignored, the write fails (EFBIG), is cleaned up, and the put is
  // answered with an error.
  Deno.addSignalListener("SIGXFSZ", () => {});
}
