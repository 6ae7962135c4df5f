/**
 * The command-line program: parses flags, checks permissions, wires stdin and stdout to
 * the protocol engine over the store, and reports. The go command starts it once per go
 * process and waits for its handshake, so this file keeps its static imports to what the
 * handshake needs: the stores (and the Redis code), the other commands, the help text
 * and the metrics file are loaded when they are used, the stores after the handshake,
 * while the go command loads its packages.
 *
 * @module
 */

import { type Config, parseConfig, resolveCacheDir } from "./cli/config.ts";
import type { CacheStore } from "./store.ts";
import type { CommandContext } from "./cli/commands/context.ts";
import { hostPort, parseRedisAddress } from "./redis/address.ts";
import {
  missingPermissionFlags,
  needsWholeEnvironment,
  queryDenoPermission,
  readOwnEnv,
} from "./cli/permissions.ts";
import { readRemoteSettings, type RemoteSettings } from "./cli/remote_settings.ts";
import { Logger, writeStderrLine } from "./util/log.ts";
import { ServeMetrics } from "./protocol/serve_metrics.ts";
import { serve } from "./protocol/serve.ts";
import { VERSION } from "./version.ts";
import { messageOf } from "./errors.ts";
import { trimStore } from "./local/trim.ts";

/** The most one go command spends trimming; the next one resumes where it stopped. */
const TRIM_BUDGET_MILLIS = 30;

/**
 * Runs the program.
 *
 * @param args The command-line arguments after the program name.
 * @returns The exit status: 0 on success, 1 when serving failed, 2 on a usage error.
 */
export async function main(args: readonly string[]): Promise<number> {
  let config: Config;
  try {
    config = parseConfig(args, readOwnEnv);
  } catch (error) {
    writeStderrLine(`gocacheprog: ${messageOf(error)} (see gocacheprog --help)`);
    return 2;
  }
  if (config.help) {
    const { usage } = await import("./cli/usage.ts");
    writeStdout(usage(VERSION));
    return 0;
  }
  if (config.version) {
    writeStdout(`gocacheprog ${VERSION}\n`);
    return 0;
  }
  let dir: string;
  let remote: RemoteSettings | undefined;
  try {
    dir = resolveCacheDir(config, () => Deno.cwd());
    const missing = missingPermissions(config, dir);
    // doctor reports missing permissions itself, among its other checks.
    if (missing.length > 0 && config.command !== "doctor") {
      writeStderrLine(
        `gocacheprog: missing Deno permissions: run deno with ${missing.join(" ")} ` +
          "(see the README's install section)",
      );
      return 2;
    }
    remote = readRemoteSettings(config);
  } catch (error) {
    writeStderrLine(`gocacheprog: ${messageOf(error)}`);
    return 2;
  }
  if (config.command !== "serve") {
    return await runCommand(config.command, {
      config,
      dir,
      ...(remote === undefined ? {} : { remote }),
      print: (line) => writeStdout(line + "\n"),
    });
  }
  return await serveGoCommand(config, dir, remote);
}

/** The permission flags missing for what this configuration will touch. */
function missingPermissions(config: Config, dir: string): string[] {
  const netHosts = [...config.redisUrls, ...config.redisSentinels].map((url) =>
    hostPort(parseRedisAddress(url))
  );
  const missing = missingPermissionFlags(
    {
      dir,
      netHosts,
      allEnv: needsWholeEnvironment({ urls: config.redisUrls, sentinels: config.redisSentinels }),
    },
    queryDenoPermission,
  );
  if (
    config.metricsFile !== undefined &&
    !queryDenoPermission({ name: "write", path: config.metricsFile })
  ) {
    missing.push(`--allow-write=${config.metricsFile}`);
  }
  return missing;
}

/** Runs a command other than serving; each is loaded only when it is run. */
async function runCommand(
  command: Exclude<Config["command"], "serve">,
  context: CommandContext,
): Promise<number> {
  switch (command) {
    case "prefetch":
      return await (await import("./cli/commands/prefetch.ts")).runPrefetch(context);
    case "stats":
      return await (await import("./cli/commands/stats.ts")).runStats(context);
    case "trim":
      return (await import("./cli/commands/trim.ts")).runTrim(context);
    case "clear":
      return await (await import("./cli/commands/clear.ts")).runClear(context);
    case "doctor":
      return await (await import("./cli/commands/doctor.ts")).runDoctor(context);
  }
}

/** Serves one go command over stdin and stdout, then reports and trims. */
async function serveGoCommand(
  config: Config,
  dir: string,
  remote: RemoteSettings | undefined,
): Promise<number> {
  const logger = new Logger();
  const metrics = new ServeMetrics();
  if (config.redisPasswordOnCommandLine) {
    logger.warnOnce(
      "password-flag",
      "--redis-password is visible in process lists and in `go env`; " +
        "use GOCACHEPROG_REDIS_PASSWORD or --redis-password-file instead",
    );
  }
  let store: CacheStore | undefined;
  try {
    // Called once the handshake is written.
    const openStore = async () => {
      listenForSignals();
      const { openCacheStore } = await import("./cli/open_store.ts");
      return store = await openCacheStore({ config, dir, remote, logger });
    };
    await serve(openStore, {
      input: Deno.stdin,
      output: writeStdoutOrExit,
      logger,
      metrics,
      logRequests: config.logRequests,
      logResponses: config.logResponses,
    });
  } catch (error) {
    logger.info(`fatal: ${messageOf(error)}`);
    return 1;
  }
  if (config.logMetrics) {
    logger.info(metrics.summary());
    const tiers = store?.summary?.();
    if (tiers !== undefined) logger.info(tiers);
  }
  if (config.metricsFile !== undefined) {
    try {
      const { appendMetricsLine } = await import("./cli/job_metrics.ts");
      appendMetricsLine(config.metricsFile, metrics.toRecord(store?.counters?.()));
    } catch (error) {
      logger.warnOnce(
        "metrics-file",
        `cannot append to ${config.metricsFile}: ${messageOf(error)}`,
      );
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

function writeStdout(text: string): void {
  writeStdoutOrExit(new TextEncoder().encode(text));
}

/**
 * Writes all of `bytes` to stdout. When the go command has gone away, there is nobody
 * left to answer: the program ends quietly.
 */
function writeStdoutOrExit(bytes: Uint8Array): void {
  let written = 0;
  try {
    while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) Deno.exit(0);
    throw error;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
