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
import type { LocalStore } from "./store.ts";
import { TieredStore } from "./tiered_store.ts";
import { parseRedisAddress } from "./redis_address.ts";
import type { RedisStoreOptions, RedisTlsOptions } from "./redis_store.ts";
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
  let remote: RemoteSettings | undefined;
  try {
    dir = resolveCacheDir(config, () => Deno.cwd());
    remote = readRemoteSettings(config);
  } catch (error) {
    writeStderrLine(`gocacheprog: ${messageOf(error)}`);
    return 2;
  }
  // Ctrl-C reaches the whole process group: the go command handles it and closes our
  // stdin, and we finish cleanly on that end of input instead of dying mid-write.
  Deno.addSignalListener("SIGINT", () => {});
  const logger = new Logger();
  const metrics = new ServeMetrics();
  if (config.redisPasswordOnCommandLine) {
    logger.warnOnce(
      "password-flag",
      "--redis-password is visible in process lists and in `go env`; " +
        "use GOCACHEPROG_REDIS_PASSWORD or --redis-password-file instead",
    );
  }
  let store: LocalStore | undefined;
  const openStore = async (): Promise<LocalStore> => {
    const local = await DiskStore.open(dir);
    store = remote === undefined ? local : new TieredStore({
      local,
      // ioredis loads after the handshake, and the store connects in the background.
      remote: import("./redis_store.ts").then(({ openRedisStore }) =>
        openRedisStore({ ...remote, timeoutMillis: config.redisTimeoutMillis })
      ),
      logger,
      readOnly: config.readOnly,
      timeoutMillis: config.redisTimeoutMillis,
      uploadWaitMillis: config.uploadWaitMillis,
    });
    return store;
  };
  try {
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
  return 0;
}

/** What the Redis store is opened with, read and checked before the handshake. */
type RemoteSettings = Omit<RedisStoreOptions, "timeoutMillis">;

/**
 * Checks the Redis configuration and reads the files it names (password, TLS), so that
 * a mistake is a clear error before the go command is answered at all.
 *
 * @returns The settings, or `undefined` when no Redis is configured.
 * @throws {TypeError} On a bad address or an unreadable file; never with a secret in
 * the message.
 */
function readRemoteSettings(config: Config): RemoteSettings | undefined {
  if (config.redisUrls.length === 0 && config.redisSentinels.length === 0) return undefined;
  for (const address of [...config.redisUrls, ...config.redisSentinels]) parseRedisAddress(address);
  const readFile = (path: string, what: string): string => {
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      throw new TypeError(`Cannot read the ${what} file "${path}": ${messageOf(error)}`);
    }
  };
  let password = config.redisPassword;
  if (password === undefined && config.redisPasswordFile !== undefined) {
    password = readFile(config.redisPasswordFile, "Redis password").split(/\r?\n/)[0];
  }
  const tls: RedisTlsOptions = {};
  if (config.redisTlsCa !== undefined) tls.ca = readFile(config.redisTlsCa, "TLS CA");
  if (config.redisTlsCert !== undefined) {
    tls.cert = readFile(config.redisTlsCert, "TLS certificate");
  }
  if (config.redisTlsKey !== undefined) tls.key = readFile(config.redisTlsKey, "TLS key");
  return {
    urls: config.redisUrls,
    sentinels: config.redisSentinels,
    sentinelName: config.redisSentinelName,
    ...(config.redisUser === undefined ? {} : { username: config.redisUser }),
    ...(password === undefined ? {} : { password }),
    ...(Object.keys(tls).length === 0 ? {} : { tls }),
    prefix: config.redisPrefix,
    ttlMillis: config.redisTtlMillis,
    compress: config.compress,
  };
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
