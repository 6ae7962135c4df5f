/**
 * The Redis remote store, a separate entry point (`@gocacheprog/gocacheprog/redis`) so
 * that the library's main entry never loads it: {@linkcode openRedisStore} for a
 * {@linkcode RemoteStore} to put behind a local store, and {@linkcode openRedisAdmin}
 * for round trips and the keys under a prefix.
 *
 * @example Share a local store through Redis
 * ```ts ignore
 * import { DiskStore, Logger, RemoteBackedStore } from "@gocacheprog/gocacheprog";
 * import { openRedisStore } from "@gocacheprog/gocacheprog/redis";
 *
 * const store = new RemoteBackedStore({
 *   local: await DiskStore.open("/var/cache/go-build"),
 *   remote: openRedisStore({ urls: ["redis://cache.internal:6379"] }),
 *   logger: new Logger(),
 * });
 * ```
 *
 * @module
 */

export { openRedisStore, RedisStore } from "./redis_store.ts";
export type { Encoding, RedisStoreOptions } from "./redis_store.ts";
export { openRedisAdmin, RedisAdmin } from "./admin.ts";
export type { RedisAdminOptions, RedisMemory } from "./admin.ts";
export type { RedisConnectOptions, RedisTlsOptions } from "./connect.ts";
export { DEFAULT_REDIS_TTL_MILLIS, DEFAULT_SENTINEL_NAME } from "./defaults.ts";
export { errorFromReply, RedisReplyError } from "./transport.ts";
export type {
  Lane,
  RedisArg,
  RedisNode,
  RedisReply,
  RedisTransport,
  SendOptions,
} from "./transport.ts";
