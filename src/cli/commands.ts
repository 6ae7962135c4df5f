/**
 * The commands other than serving: `prefetch`, `stats`, `trim` and `clear`. They are run by people
 * (or CI steps), so they print to stdout; `doctor` is in its own module.
 *
 * @module
 */

import type { Config } from "./config.ts";
import type { RemoteSettings } from "./remote_settings.ts";
import { TRIM_STATE_FILE, trimStore } from "../local/trim.ts";
import { formatBytes, formatMillis } from "../protocol/serve_metrics.ts";
import { formatJobTotals, sumMetrics } from "./job_metrics.ts";
import type { RedisStore } from "../redis/redis_store.ts";
import { messageOf } from "../protocol/wire.ts";
import { Logger } from "../util/log.ts";
import { openStore } from "./open_store.ts";
import { TieredStore } from "../tiered/remote_backed_store.ts";

/** What a command works on, and where it prints. */
export interface CommandContext {
  /** The parsed configuration. */
  config: Config;
  /** The local store's directory. */
  dir: string;
  /** The Redis settings, when Redis is configured. */
  remote?: RemoteSettings;
  /** Prints one line to the user. */
  print: (line: string) => void;
}

/** What the local store holds. */
export interface LocalUsage {
  /** Action entries. */
  entries: number;
  /** Files of the store (entries, outputs and their companions). */
  files: number;
  /** Their bytes. */
  bytes: number;
}

/**
 * Measures the local store: its entries, files and bytes.
 *
 * @param dir The store's directory.
 * @returns The usage.
 */
export function measureLocal(dir: string): LocalUsage {
  const usage: LocalUsage = { entries: 0, files: 0, bytes: 0 };
  forEachStoreFile(dir, (path, name) => {
    usage.files++;
    if (name.endsWith("-a")) usage.entries++;
    try {
      usage.bytes += Deno.statSync(path).size;
    } catch {
      // removed meanwhile
    }
  });
  return usage;
}

/**
 * `gocacheprog prefetch`: fills the local store from Redis with what the build manifests
 * list (the same manifests, budget and verification as a go command's own prefetch),
 * then exits. Run at the start of a CI job, in the background while the job checks out
 * and sets up, it takes the transfer and the file writes out of the build: a go command
 * started after it finds the entries local. It never fails a job: an unreachable Redis
 * or a missing manifest is reported, and the status is still 0.
 *
 * @param context The configuration and the printer.
 * @returns The exit status: 0.
 */
export async function runPrefetch(context: CommandContext): Promise<number> {
  const started = performance.now();
  const store = await openStore({
    config: context.config,
    dir: context.dir,
    remote: context.remote,
    logger: new Logger(),
    recordManifest: false,
  });
  if (!(store instanceof TieredStore)) return 0; // no Redis: the flags require one
  await store.prefetchFinished();
  await store.close();
  const counters = store.counters();
  const took = formatMillis(performance.now() - started);
  context.print(
    (counters.breakerTrips ?? 0) > 0
      ? `nothing prefetched: Redis is unavailable (${took})`
      : counters.prefetchPlanned === 0
      ? `nothing to prefetch (no build manifest for this build type and scope, or all of it is local) in ${took}`
      : `prefetched ${counters.prefetched} of the ${counters.prefetchPlanned} manifest entries ` +
        `missing locally (${formatBytes(counters.prefetchedBytes ?? 0)}) in ${took}`,
  );
  return 0;
}

/**
 * `gocacheprog stats`: the local store; Redis' reachability, round trip and keys under
 * the prefix; and with `--metrics-file`, the job's totals.
 *
 * @param context The configuration and the printer.
 * @returns The exit status: 1 if Redis is configured but cannot be reached.
 */
export async function runStats(context: CommandContext): Promise<number> {
  const { config, dir, print } = context;
  const local = measureLocal(dir);
  print(
    `local store ${dir}: ${local.entries} entries, ${local.files} files, ${
      formatBytes(local.bytes)
    }`,
  );
  let status = 0;
  if (context.remote !== undefined) {
    await withRedis(context.remote, config.redisTimeoutMillis, async (redis) => {
      const rtt = await redis.pingMillis();
      const { keys, bytes } = await redis.countKeys();
      print(`redis ${redis.description}: reachable, round trip ${rtt.toFixed(2)} ms`);
      print(`redis keys under the prefix: ${keys}, ${formatBytes(bytes)}`);
    }).catch((error) => {
      print(`redis: unreachable (${messageOf(error)})`);
      status = 1;
    });
  }
  if (config.metricsFile !== undefined) {
    let text = "";
    try {
      text = Deno.readTextFileSync(config.metricsFile);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    print(`job metrics from ${config.metricsFile}:`);
    for (const line of formatJobTotals(sumMetrics(text)).trimEnd().split("\n")) print(`  ${line}`);
  }
  return status;
}

/**
 * `gocacheprog trim`: one whole trim pass now.
 *
 * @param context The configuration and the printer.
 * @returns The exit status.
 */
export function runTrim(context: CommandContext): number {
  const { config, dir, print } = context;
  const started = performance.now();
  const result = trimStore(dir, {
    ageMillis: config.trimAgeMillis,
    force: true,
    ...(config.maxSizeBytes === undefined ? {} : { maxSizeBytes: config.maxSizeBytes }),
  });
  if (!result.ran) {
    print("another process is trimming this store; nothing done");
    return 0;
  }
  print(
    `trimmed ${dir}: removed ${result.filesRemoved} files (${formatBytes(result.bytesRemoved)}), ` +
      `kept ${formatBytes(result.bytesKept)}, in ${formatMillis(performance.now() - started)}`,
  );
  return 0;
}

/**
 * `gocacheprog clear --local | --remote`.
 *
 * @param context The configuration and the printer.
 * @returns The exit status.
 */
export async function runClear(context: CommandContext): Promise<number> {
  const { config, dir, print } = context;
  if (config.clearLocal) {
    let removed = 0;
    forEachStoreFile(dir, (path) => {
      try {
        Deno.removeSync(path);
        removed++;
      } catch {
        // removed meanwhile
      }
    });
    try {
      Deno.removeSync(`${dir}/${TRIM_STATE_FILE}`);
    } catch {
      // never trimmed
    }
    print(`cleared ${dir}: removed ${removed} files`);
    return 0;
  }
  if (context.remote === undefined) {
    print("clear --remote needs --redis-url or --redis-sentinel");
    return 2;
  }
  return await withRedis(context.remote, config.redisTimeoutMillis, async (redis) => {
    const deleted = await redis.clear();
    print(
      `cleared ${redis.description}: deleted ${deleted} keys under the prefix, and nothing else`,
    );
    return 0;
  }).catch((error) => {
    print(`redis: ${messageOf(error)}`);
    return 1;
  });
}

/**
 * Opens the Redis store, runs `work` once it is connected, and closes it.
 *
 * @param settings Where and how.
 * @param timeoutMillis The connection and command deadline.
 * @param work What to do.
 * @returns What `work` returns; rejects if Redis cannot be reached.
 */
export async function withRedis<T>(
  settings: RemoteSettings,
  timeoutMillis: number,
  work: (redis: RedisStore) => Promise<T>,
): Promise<T> {
  const { openRedisStore } = await import("../redis/redis_store.ts");
  const redis = openRedisStore({ ...settings, timeoutMillis });
  try {
    if (!(await redis.ready())) throw new Error(redis.lastError ?? "cannot connect");
    return await work(redis);
  } finally {
    await redis.close();
  }
}

/** Calls `each` for every file of the store: entries, outputs, their companions, leftovers. */
function forEachStoreFile(dir: string, each: (path: string, name: string) => void): void {
  for (let shard = 0; shard < 256; shard++) {
    const shardDir = `${dir}/${shard.toString(16).padStart(2, "0")}`;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(shardDir)];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    for (const entry of entries) {
      if (entry.isFile && (/-[ads]$/.test(entry.name) || entry.name.includes(".tmp-"))) {
        each(`${shardDir}/${entry.name}`, entry.name);
      }
    }
  }
}
