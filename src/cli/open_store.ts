/**
 * Opens the stores the program works with: the disk store alone, or the disk store
 * backed by Redis with build manifests. Shared by serving and by the `prefetch` command,
 * so that both read the same manifests with the same settings.
 *
 * @module
 */

import type { Config } from "./config.ts";
import type { CacheStore } from "../store.ts";
import { DiskStore } from "../local/disk_store.ts";
import { RemoteBackedStore } from "../tiered/remote_backed_store.ts";
import type { ManifestOptions } from "../tiered/manifest_session.ts";
import { deriveScopes } from "../tiered/manifest.ts";
import type { RemoteSettings } from "./remote_settings.ts";
import { readEnvIfGranted } from "./permissions.ts";
import { redisEndpoints } from "./remote_settings.ts";
import { HealthFile } from "../local/health_file.ts";
import type { Logger } from "../util/log.ts";
import type { MetricsRegistry } from "../metrics.ts";

/** What {@linkcode openCacheStore} opens. */
export interface OpenStoreOptions {
  /** The parsed configuration. */
  config: Config;
  /** The cache directory. */
  dir: string;
  /** The Redis settings; absent for the disk store alone. */
  remote?: RemoteSettings | undefined;
  /** Where warnings go. */
  logger: Logger;
  /** Where the remote tier's parts register their counters. */
  metrics?: MetricsRegistry;
  /**
   * Reads the variables that name the build's manifests; the granted environment unless
   * given (a `prefetch` step adds what `go env` says).
   */
  env?: (name: string) => string | undefined;
}

/**
 * Opens the store a go command is served from: the disk store, and with Redis
 * configured, the disk store backed by Redis, whose code loads and connects in the
 * background.
 *
 * @param options The configuration.
 * @returns The store.
 */
export async function openCacheStore(options: OpenStoreOptions): Promise<CacheStore> {
  const { remote } = options;
  if (remote === undefined) return await openDiskStore(options, false);
  return await openRemoteBackedStore({ ...options, remote }, {
    recordManifest: true,
    servesGoCommand: true,
  });
}

/**
 * Opens the disk store backed by Redis.
 *
 * @param options The configuration, with Redis settings.
 * @param use Whether this process's gets are a build's, to be recorded in its manifest,
 * and whether it serves a go command (when not, its background work may use the event
 * loop's thread).
 * @returns The store.
 */
export async function openRemoteBackedStore(
  options: OpenStoreOptions & { remote: RemoteSettings },
  use: { recordManifest: boolean; servesGoCommand: boolean },
): Promise<RemoteBackedStore> {
  const { config, remote } = options;
  return new RemoteBackedStore({
    local: await openDiskStore(options, !use.servesGoCommand),
    // What the job's other go commands found of this Redis, in the cache directory.
    health: new HealthFile(options.dir, redisEndpoints(config).join(",")),
    // The Redis code loads after the handshake, and the store connects in the background.
    remote: import("../redis/redis_store.ts").then(({ openRedisStore }) => openRedisStore(remote)),
    logger: options.logger,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    readOnly: config.readOnly,
    timeoutMillis: config.redisTimeoutMillis,
    uploadWaitMillis: config.uploadWaitMillis,
    fleetWaitMillis: config.fleetWaitMillis,
    manifests: manifestOptions(config, use.recordManifest, options.env),
    speculate: config.speculate,
    ...(use.servesGoCommand ? {} : { unavailableMeans: "nothing is prefetched" }),
  });
}

function openDiskStore(
  options: OpenStoreOptions,
  backgroundOnEventLoop: boolean,
): Promise<DiskStore> {
  return DiskStore.open(options.dir, {
    keepComputeTimes: options.config.metricsFile !== undefined,
    backgroundOnEventLoop,
  });
}

/**
 * Where build manifests are read and written, from the flags and the CI environment
 * (Redis mode is allowed to read the CI variables that name them).
 *
 * @param config The parsed configuration.
 * @param recordManifest Whether this process's gets are a build's.
 * @param env Reads the CI variables.
 * @returns The manifest options.
 */
export function manifestOptions(
  config: Config,
  recordManifest: boolean,
  env: (name: string) => string | undefined = readEnvIfGranted,
): ManifestOptions {
  const scopes = deriveScopes(env, {
    ...(config.buildType === undefined ? {} : { buildType: config.buildType }),
    ...(config.manifestScope === undefined ? {} : { own: config.manifestScope }),
    ...(config.manifestBase === undefined ? {} : { base: config.manifestBase }),
    ...(config.manifestDefault === undefined ? {} : { defaultBranch: config.manifestDefault }),
  });
  const inCi = env("GITLAB_CI") === "true" || env("GITHUB_ACTIONS") === "true";
  // A scope or build type given explicitly says manifests are wanted, in CI or not.
  const asked = config.manifest || config.manifestScope !== undefined ||
    config.buildType !== undefined;
  return {
    scopes,
    write: recordManifest && (asked || inCi),
    prefetchMaxBytes: config.prefetchMaxBytes,
  };
}
