/**
 * The command-line program: parses flags, wires stdin and stdout to the protocol
 * engine over the disk store, and reports. The go command starts it once per go
 * process, so this file keeps its static imports to what the handshake needs.
 *
 * @module
 */

import { ENV_VARIABLES, parseConfig, resolveCacheDir, usage } from "./config.ts";
import type { Config } from "./config.ts";
import { DiskStore } from "./disk_store.ts";
import { Logger, writeStderrLine } from "./log.ts";
import { ServeMetrics } from "./metrics.ts";
import { serve } from "./serve.ts";
import { VERSION } from "./version.ts";
import { messageOf } from "./wire.ts";

/**
 * Runs the program.
 *
 * @param args The command-line arguments after the program name.
 * @returns The exit status: 0 on success, 1 when serving failed, 2 on a usage error.
 */
export async function main(args: readonly string[]): Promise<number> {
  let config: Config;
  try {
    config = parseConfig(args, readEnv);
  } catch (error) {
    writeStderrLine(`gocacheprog: ${messageOf(error)} (see gocacheprog --help)`);
    return 2;
  }
  if (config.help) {
    writeStdout(usage(VERSION));
    return 0;
  }
  if (config.version) {
    writeStdout(`gocacheprog ${VERSION}\n`);
    return 0;
  }
  let dir: string;
  try {
    dir = resolveCacheDir(config, () => Deno.cwd());
  } catch (error) {
    writeStderrLine(`gocacheprog: ${messageOf(error)}`);
    return 2;
  }
  // Ctrl-C reaches the whole process group: the go command handles it and closes our
  // stdin, and we finish cleanly on that end of input instead of dying mid-write.
  Deno.addSignalListener("SIGINT", () => {});
  const logger = new Logger();
  const metrics = new ServeMetrics();
  try {
    await serve(() => DiskStore.open(dir), {
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
  if (config.logMetrics) logger.info(metrics.summary());
  return 0;
}

/** Reads a variable this program knows about, or nothing when not permitted. */
function readEnv(name: string): string | undefined {
  if (!ENV_VARIABLES.includes(name)) return undefined;
  if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
    return undefined;
  }
  return Deno.env.get(name);
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
