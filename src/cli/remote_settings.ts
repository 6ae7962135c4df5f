/**
 * The Redis settings, read from the configuration and the files it names (password,
 * TLS), and checked, before anything connects.
 *
 * @module
 */

import type { Config } from "./config.ts";
import type { RedisStoreOptions } from "../redis/redis_store.ts";
import type { RedisTlsOptions } from "../redis/connect.ts";
import { queryDenoPermission } from "./permissions.ts";
import { messageOf } from "../errors.ts";

/**
 * What the Redis store is opened with, read and checked before the handshake. Type-only
 * imports keep the Redis code out of start-up: it loads after the handshake.
 */
export type RemoteSettings = RedisStoreOptions;

/**
 * Checks the Redis configuration and reads the files it names (password, TLS), so that
 * a mistake is a clear error before the go command is answered at all.
 *
 * @param config The parsed configuration.
 * @returns The settings, or `undefined` when no Redis is configured.
 * @throws {TypeError} On a bad address or an unreadable file; never with a secret in
 * the message.
 */
export function readRemoteSettings(config: Config): RemoteSettings | undefined {
  if (config.redisUrls.length === 0 && config.redisSentinels.length === 0) return undefined;
  const readFile = (path: string, what: string): string => {
    if (!queryDenoPermission({ name: "read", path })) {
      throw new TypeError(
        `Cannot read the ${what} file "${path}": run deno with --allow-read=${path}`,
      );
    }
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
    timeoutMillis: config.redisTimeoutMillis,
    connectTimeoutMillis: config.redisConnectTimeoutMillis,
    refreshTtl: !config.readOnly,
    compress: config.compress,
  };
}
