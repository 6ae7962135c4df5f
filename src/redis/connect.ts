/**
 * Where and how to reach Redis, and the transport that does: our own RESP connections
 * for a standalone server, ioredis for a Cluster (several addresses) or a Sentinel.
 *
 * @module
 */

import { DEFAULT_CONNECT_TIMEOUT_MILLIS, DEFAULT_REMOTE_TIMEOUT_MILLIS } from "../store.ts";
import {
  hostPort,
  InvalidRedisAddressError,
  parseRedisAddress,
  type RedisTlsOptions,
} from "./address.ts";

export type { RedisTlsOptions } from "./address.ts";
import { RespTransport } from "./resp_transport.ts";
import { IoredisTransport } from "./ioredis_transport.ts";
import type { RedisTransport } from "./transport.ts";
import { DEFAULT_SENTINEL_NAME } from "./defaults.ts";

/** Where Redis is, and how to log in. */
export interface RedisConnectOptions {
  /** Addresses: one for a standalone server, several for a Cluster. */
  urls: readonly string[];
  /** Sentinel addresses; used instead of `urls` when not empty. */
  sentinels?: readonly string[];
  /**
   * The Sentinel master group's name.
   *
   * @default {"mymaster"}
   */
  sentinelName?: string;
  /** ACL user name (a user in the URL wins). */
  username?: string;
  /** Password (a password in the URL wins). */
  password?: string;
  /** TLS material; TLS is used when this is given or an address is `rediss://`. */
  tls?: RedisTlsOptions;
  /**
   * The deadline for each command, in milliseconds: how long it may go without a byte
   * moving (the floor rate extends it for big transfers).
   *
   * @default {1000}
   */
  timeoutMillis?: number;
  /**
   * The most time for connecting to a Cluster or Sentinel, in milliseconds: loading
   * ioredis and discovering the nodes, in the background while builds go on from local
   * disk (a standalone server gets `timeoutMillis`).
   *
   * @default {10000}
   */
  connectTimeoutMillis?: number;
}

/**
 * Opens the transport for these options; it connects in the background.
 *
 * @param options Where, and how to log in.
 * @returns The transport.
 * @throws {InvalidRedisAddressError} If an address cannot be read, or none is given; the message never
 * repeats a password.
 */
export function openTransport(options: RedisConnectOptions): RedisTransport {
  const timeoutMillis = options.timeoutMillis ?? DEFAULT_REMOTE_TIMEOUT_MILLIS;
  const connectTimeoutMillis = options.connectTimeoutMillis ?? DEFAULT_CONNECT_TIMEOUT_MILLIS;
  const sentinels = (options.sentinels ?? []).map(parseRedisAddress);
  const addresses = sentinels.length > 0 ? sentinels : options.urls.map(parseRedisAddress);
  const first = addresses[0];
  if (first === undefined) throw new InvalidRedisAddressError("No Redis address given");
  const username = first.username ?? options.username;
  const password = first.password ?? options.password;
  const credentials = {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
  if (sentinels.length > 0) {
    const name = options.sentinelName ?? DEFAULT_SENTINEL_NAME;
    return new IoredisTransport({
      sentinels: { addresses: sentinels, name },
      ...credentials,
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      description: `Redis sentinel ${name} at ${sentinels.map(hostPort).join(",")}`,
      timeoutMillis,
      connectTimeoutMillis,
    });
  }
  const tls = options.tls !== undefined || first.tls ? { ...options.tls } : undefined;
  if (addresses.length > 1) {
    return new IoredisTransport({
      nodes: addresses,
      ...credentials,
      ...(tls === undefined ? {} : { tls }),
      description: `Redis cluster ${addresses.map(hostPort).join(",")}`,
      timeoutMillis,
      connectTimeoutMillis,
    });
  }
  return new RespTransport({
    connection: {
      host: first.host,
      port: first.port,
      db: first.db,
      ...credentials,
      ...(tls === undefined ? {} : { tls }),
    },
    description: `Redis ${hostPort(first)}`,
    timeoutMillis,
    // A standalone server answers a connection within a round trip or two, and our own
    // code is already loaded: connecting gets the same deadline as a command.
    connectTimeoutMillis: timeoutMillis,
  });
}
