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
 * Redis settings that cannot be used: a file they name (a password, a certificate) that
 * cannot be read, or a client certificate TLS would refuse. Like a refused password, it
 * makes Redis unusable, not the build: serving says so once and goes on from local disk.
 */
export class RemoteSettingsError extends Error {
  /**
   * Creates the error.
   *
   * @param message Which file, and why; never its contents.
   * @param options The underlying error.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RemoteSettingsError";
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
 * @throws {RemoteSettingsError} On a file that cannot be read; never with a secret in the
 * message.
 */
export function readRemoteSettings(config: Config): RemoteSettings | undefined {
  if (config.redisUrls.length === 0 && config.redisSentinels.length === 0) return undefined;
  redisEndpoints(config); // every address readable
  if ((config.redisTlsCert === undefined) !== (config.redisTlsKey === undefined)) {
    throw new UsageError(
      "--redis-tls-cert and --redis-tls-key go together: a client certificate for mutual " +
        "TLS needs its private key, and a key its certificate",
    );
  }
  const readFile = (path: string, what: string): string => {
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      throw new RemoteSettingsError(
        `cannot read the ${what} file "${path}" (${messageOf(error)})`,
        {
          cause: error,
        },
      );
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
  if (tls.cert !== undefined) checkClientCertificate(tls.cert, config.redisTlsCert!);
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

/**
 * Refuses a client certificate that TLS here would refuse, naming it as the side at
 * fault: an X.509 v1 or v2 certificate (such as `openssl x509 -req` makes without
 * extensions) fails the handshake with an error that seems to blame the server.
 */
function checkClientCertificate(pem: string, path: string): void {
  const version = x509Version(pem);
  if (version === undefined || version >= 3) return;
  throw new RemoteSettingsError(
    `the client certificate "${path}" is X.509 v${version}, which TLS here refuses: issue ` +
      "it as v3 (with openssl x509 -req, add -extfile with basicConstraints=CA:FALSE)",
  );
}

/**
 * The X.509 version of a PEM certificate's first certificate, read from its DER: the
 * `TBSCertificate`'s optional `[0]` version (absent means v1).
 *
 * @returns 1, 2 or 3, or `undefined` when the text is not a certificate this can read.
 */
export function x509Version(pem: string): number | undefined {
  const body = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(pem)?.[1];
  if (body === undefined) return undefined;
  let der: Uint8Array;
  try {
    der = Uint8Array.fromBase64(body.replace(/\s+/g, ""));
  } catch {
    return undefined;
  }
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] EXPLICIT version ...
  const tbs = innerStart(der, 0);
  if (tbs === undefined || der[tbs] !== 0x30) return undefined;
  const first = innerStart(der, tbs);
  if (first === undefined) return undefined;
  if (der[first] !== 0xa0) return 1;
  const integer = innerStart(der, first);
  if (integer === undefined || der[integer] !== 0x02 || der[integer + 1] !== 1) return undefined;
  return der[integer + 2]! + 1;
}

/** Where the contents of the DER element at `offset` start. */
function innerStart(der: Uint8Array, offset: number): number | undefined {
  const length = der[offset + 1];
  if (length === undefined) return undefined;
  return length < 0x80 ? offset + 2 : offset + 2 + (length & 0x7f);
}

/** The Redis settings of a command, or why they cannot be used. */
export interface RemoteSettingsOutcome {
  /** The settings, when Redis is configured and usable. */
  remote?: RemoteSettings;
  /** Why Redis is configured but cannot be used. */
  remoteProblem?: string;
}

/**
 * The Redis settings, or why they cannot be used (a file they name, a certificate), for a
 * command's context: serving then goes on from local disk, with one warning.
 *
 * @param config The parsed configuration.
 * @returns The settings or the problem; neither without Redis.
 * @throws {UsageError} On a bad address, or flags that do not go together.
 */
export function remoteSettingsOf(config: Config): RemoteSettingsOutcome {
  try {
    const remote = readRemoteSettings(config);
    return remote === undefined ? {} : { remote };
  } catch (error) {
    if (!(error instanceof RemoteSettingsError)) throw error;
    return { remoteProblem: error.message };
  }
}
