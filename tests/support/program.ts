/**
 * Running this program from the checkout, with the permission flags the README documents.
 *
 * @module
 */

import { ENV_PERMISSION, REDIS_ENV_PERMISSION } from "../../src/cli/permissions.ts";
import { type CommandResult, runCommand, type RunCommandOptions } from "./process.ts";
import { REPO_ROOT } from "./tools.ts";

/**
 * The program's entry point in source, which the tests run: the CLI module itself, which
 * starts sooner than `mod.ts` (the whole library's exports). The README's recipes run its
 * bundle, {@linkcode BUNDLE_ENTRY}.
 */
export const CLI_ENTRY = `${REPO_ROOT}/src/main.ts`;

/**
 * The CLI bundled into one JavaScript file (`deno task bundle`), which the README's recipes
 * run: one file starts sooner than the modules of `src/main.ts` (the README's Design).
 */
export const BUNDLE_ENTRY = `${REPO_ROOT}/src/main.bundle.js`;

/**
 * Bundles the sources as they stand into one file, with deno.json's own bundle task (its
 * one definition), writing to `to` instead of {@linkcode BUNDLE_ENTRY}.
 *
 * @param to The file to write.
 * @throws If the task is not a `deno bundle -o FILE` command, or bundling fails.
 */
export async function bundleSources(to: string): Promise<void> {
  const config = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}/deno.json`));
  const [deno, ...args] = (config.tasks.bundle as string).split(" ");
  const output = args.indexOf("-o") + 1;
  if (deno !== "deno" || output === 0) {
    throw new Error(`the bundle task is not "deno bundle -o FILE ...": ${config.tasks.bundle}`);
  }
  args[output] = to;
  // The bundle names modules relative to the working directory: the repository's root, as
  // for the task.
  const bundled = await runCommand([Deno.execPath(), ...args], { cwd: REPO_ROOT });
  if (bundled.code !== 0) {
    throw new Error(`deno bundle failed (it fetches esbuild from npm once):\n${bundled.stderr}`);
  }
}

/** The library's entry point, which runs the same program as the main module. */
export const MOD_TS = `${REPO_ROOT}/mod.ts`;

/** Options for {@linkcode programArgv}. */
export interface ProgramOptions {
  /** The cache directory, granted read and write; passed as `--dir` when `passDir`. */
  dir: string;
  /** Pass the directory with `--dir` (otherwise the program reads `$GOCACHE`). */
  passDir?: boolean;
  /** More program flags. */
  args?: readonly string[];
  /** Extra paths to allow reading (a password file, TLS certificates). */
  extraRead?: readonly string[];
  /** Extra paths to allow writing (a metrics file, a linked cache's real path). */
  extraWrite?: readonly string[];
  /** Redis hosts to allow connecting to, with the environment Redis mode needs. */
  redisHosts?: readonly string[];
  /** Allow the whole environment, as a Redis Cluster or Sentinel needs (ioredis reads it). */
  allEnv?: boolean;
  /** Commands to allow running (`go`, for a prefetch step or doctor). */
  allowRun?: readonly string[];
  /** The entry point: {@linkcode CLI_ENTRY} unless given. */
  entry?: string;
}

/**
 * The command line that runs this program from the checkout with the permission flags
 * the README documents: for the disk-only mode, or with `redisHosts` for Redis.
 *
 * @param options The directory and flags.
 * @returns The argv, starting with the deno executable.
 */
export function programArgv(options: ProgramOptions): string[] {
  const read = [options.dir, ...(options.extraRead ?? [])].join(",");
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    `--config=${REPO_ROOT}/deno.json`,
    `--allow-read=${read}`,
    `--allow-write=${[options.dir, ...(options.extraWrite ?? [])].join(",")}`,
    ...(options.redisHosts === undefined ? [] : [`--allow-net=${options.redisHosts.join(",")}`]),
    ...(options.allowRun === undefined ? [] : [`--allow-run=${options.allowRun.join(",")}`]),
    options.allEnv === true
      ? "--allow-env"
      : `--allow-env=${options.redisHosts === undefined ? ENV_PERMISSION : REDIS_ENV_PERMISSION}`,
    options.entry ?? CLI_ENTRY,
    ...(options.passDir === false ? [] : ["--dir", options.dir]),
    ...(options.args ?? []),
  ];
}

/**
 * The GOCACHEPROG value for this program with a Redis on 127.0.0.1, with the README's
 * permission flags for Redis and `--log-metrics` (the tests read its summary).
 *
 * @param gocache The cache directory (read by the program from `$GOCACHE`).
 * @param port The Redis port.
 * @param args More program flags.
 * @returns The value.
 */
export function redisGocacheprog(
  gocache: string,
  port: number,
  args: readonly string[] = [],
): string {
  return gocacheprogValue(programArgv({
    dir: gocache,
    passDir: false,
    redisHosts: ["127.0.0.1"],
    args: ["--redis-url", `127.0.0.1:${port}`, "--log-metrics", ...args],
  }));
}

/**
 * Joins an argv into a GOCACHEPROG value (the go command splits it on spaces).
 *
 * @param argv The command line; no element may contain a space.
 * @returns The value.
 */
export function gocacheprogValue(argv: readonly string[]): string {
  for (const arg of argv) {
    if (/\s/.test(arg)) throw new Error(`GOCACHEPROG argument with a space: "${arg}"`);
  }
  return argv.join(" ");
}

/**
 * Runs this program from the checkout with every permission, for its commands
 * (`stats`, `clear`, `doctor`, `--help`) rather than for serving.
 *
 * @param args The program's arguments.
 * @param env Extra environment variables.
 * @returns Its exit status and output.
 */
export function runGocacheprog(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CommandResult> {
  return runCommand([
    Deno.execPath(),
    "run",
    "--no-prompt",
    "-A",
    `--config=${REPO_ROOT}/deno.json`,
    CLI_ENTRY,
    ...args,
  ], { env });
}

/**
 * The GOCACHEPROG value of the end-to-end Redis tests: {@linkcode redisGocacheprog}
 * with a short deadline, so that a fault costs the build little.
 *
 * @param gocache The cache directory.
 * @param redis The Redis server, or a port.
 * @param args More program flags.
 * @returns The value.
 */
export function e2eRedisProgram(
  gocache: string,
  redis: { port: number } | number,
  args: readonly string[] = [],
): string {
  const port = typeof redis === "number" ? redis : redis.port;
  return redisGocacheprog(gocache, port, ["--redis-timeout", "300ms", ...args]);
}

/**
 * Runs the `gocacheprog prefetch` step with the permissions the README's CI recipes give
 * it: the cache directory (read from `$GOCACHE`), the Redis host, and `go` (the step asks
 * `go env` for the build's toolchain).
 *
 * @param gocache The cache directory to prefetch into.
 * @param port The Redis port on 127.0.0.1.
 * @param args More program flags (the manifest's scope and build type).
 * @param options A working directory and more environment variables.
 * @returns Its exit status and output.
 */
export function runPrefetchStep(
  gocache: string,
  port: number,
  args: readonly string[] = [],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  return runCommand(
    programArgv({
      dir: gocache,
      passDir: false,
      redisHosts: ["127.0.0.1"],
      allowRun: ["go"],
      args: ["prefetch", "--redis-url", `127.0.0.1:${port}`, ...args],
    }),
    { ...options, env: { GOCACHE: gocache, ...options.env } },
  );
}

/**
 * What the prefetch step says it fetched.
 *
 * @param stdout The step's output.
 * @returns The entries fetched, of the manifest entries it planned to fetch (`0 of 0`
 * when there was nothing to prefetch), or `undefined` when it says neither.
 */
export function prefetchStepCounts(
  stdout: string,
): { fetched: number; planned: number } | undefined {
  if (/nothing to prefetch/.test(stdout)) return { fetched: 0, planned: 0 };
  const counts = /prefetched (\d+) of the (\d+) manifest entries/.exec(stdout);
  return counts === null ? undefined : { fetched: Number(counts[1]), planned: Number(counts[2]) };
}
