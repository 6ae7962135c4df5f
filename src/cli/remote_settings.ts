/**
 * The Redis settings, read from the configuration and the files it names (password,
 * TLS), and checked, before anything connects.
 *
 * @module
 */

import type { Config } from "./config.ts";
import type { RedisStoreOptions } from "../redis/redis_store.ts";
import {
  hostPort,
  InvalidRedisAddressError,
  parseRedisAddress,
  type RedisTlsOptions,
} from "../redis/address.ts";
import { messageOf, UsageError } from "../errors.ts";

/**
 * What the Redis store is opened with, read and checked before the handshake. Type-only
 * imports keep the Redis code out of start-up: it loads after the handshake.
 */
export type RemoteSettings = RedisStoreOptions;

/**
 * A file the Redis settings name (a password, a certificate) that cannot be read. Like
 * a refused password, it makes Redis unusable, not the build: serving says so once and
 * goes on from local disk.
 */
export class SecretFileError extends Error {
  /**
   * Creates the error.
   *
   * @param message Which file, and why; never its contents.
   * @param options The underlying error.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SecretFileError";
  }
}

/**
 * The Redis servers the configuration names, as `host:port`: the one list that
 * permissions, `doctor` and messages use.
 *
 * @param config The Redis addresses and Sentinel addresses.
 * @returns Each address's `host:port`, in order.
 * @throws {UsageError} If an address cannot be read; never with the address in it.
 */
export function redisEndpoints(
  config: Pick<Config, "redisUrls" | "redisSentinels">,
): string[] {
  return [...config.redisUrls, ...config.redisSentinels].map((url) => {
    try {
      return hostPort(parseRedisAddress(url));
    } catch (error) {
      if (error instanceof InvalidRedisAddressError) {
        throw new UsageError(error.message, { cause: error });
      }
      throw error;
    }
  });
}

/**
 * Checks the Redis configuration and reads the files it names (password, TLS), so that
 * a mistake is a clear error before the go command is answered at all.
 *
 * @param config The parsed configuration.
 * @returns The settings, or `undefined` when no Redis is configured.
 * @throws {UsageError} On a bad address.
 * @throws {SecretFileError} On a file that cannot be read; never with a secret in the
 * message.
 */
export function readRemoteSettings(config: Config): RemoteSettings | undefined {
  if (config.redisUrls.length === 0 && config.redisSentinels.length === 0) return undefined;
  redisEndpoints(config); // every address readable
  const readFile = (path: string, what: string): string => {
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      throw new SecretFileError(`cannot read the ${what} file "${path}" (${messageOf(error)})`, {
        cause: error,
      });
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
