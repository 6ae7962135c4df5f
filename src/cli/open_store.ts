/**
 * Opens the store the program serves from: the disk store alone, or the disk store in
 * front of Redis with build manifests. Shared by serving and by the `prefetch` command,
 * so that both read the same manifests with the same settings.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { DiskStore } from "../local/disk_store.ts";
import type { LocalStore } from "../store.ts";
import { type ManifestOptions, TieredStore } from "../tiered/remote_backed_store.ts";
import { deriveScopes } from "../tiered/manifest.ts";
import type { RemoteSettings } from "./remote_settings.ts";
import type { Logger } from "../util/log.ts";

/** What {@linkcode openStore} opens. */
export interface OpenStoreOptions {
  /** The parsed configuration. */
  config: Config;
  /** The cache directory. */
  dir: string;
  /** The Redis settings; absent for the disk store alone. */
  remote?: RemoteSettings | undefined;
  /** Where warnings go. */
  logger: Logger;
  /** Whether this process's gets are a build's, to be recorded in its manifest. */
  recordManifest: boolean;
}

/**
 * Opens the disk store, and with Redis configured, a tiered store over it; the Redis code
 * loads and connects in the background.
 *
 * @param options The configuration and what this process does.
 * @returns The store.
 */
export async function openStore(options: OpenStoreOptions): Promise<LocalStore | TieredStore> {
  const { config, remote } = options;
  const local = await DiskStore.open(options.dir, {
    readComputeTimes: config.metricsFile !== undefined,
  });
  if (remote === undefined) return local;
  return new TieredStore({
    local,
    // The Redis code loads after the handshake, and the store connects in the background.
    remote: import("../redis/redis_store.ts").then(({ openRedisStore }) =>
      openRedisStore({ ...remote, timeoutMillis: config.redisTimeoutMillis })
    ),
    logger: options.logger,
    readOnly: config.readOnly,
    timeoutMillis: config.redisTimeoutMillis,
    uploadWaitMillis: config.uploadWaitMillis,
    manifests: manifestOptions(config, options.recordManifest),
    speculate: config.speculate,
  });
}

/**
 * Where build manifests are read and written, from the flags and the CI environment
 * (readable here: Redis mode runs with the whole environment allowed).
 */
function manifestOptions(config: Config, recordManifest: boolean): ManifestOptions {
  const ciEnv = (name: string): string | undefined =>
    Deno.permissions.querySync({ name: "env", variable: name }).state === "granted"
      ? Deno.env.get(name)
      : undefined;
  const scopes = deriveScopes(ciEnv, {
    ...(config.buildType === undefined ? {} : { buildType: config.buildType }),
    ...(config.manifestScope === undefined ? {} : { own: config.manifestScope }),
    ...(config.manifestBase === undefined ? {} : { base: config.manifestBase }),
    ...(config.manifestDefault === undefined ? {} : { defaultBranch: config.manifestDefault }),
  });
  const inCi = ciEnv("GITLAB_CI") === "true" || ciEnv("GITHUB_ACTIONS") === "true";
  return {
    scopes,
    write: recordManifest && (config.manifest || inCi),
    prefetchMaxBytes: config.prefetchMaxBytes,
  };
}
