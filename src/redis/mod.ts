/**
 * The Redis remote store, a separate entry point (`@gocacheprog/gocacheprog/redis`) so
 * that the library's main entry never loads it: {@linkcode openRedisStore} for a
 * {@linkcode RemoteStore} to put behind a local store, and {@linkcode openRedisAdmin}
 * for round trips and the keys under a prefix.
 *
 * @example Share a local store through Redis
 * ```ts
 * import assert from "node:assert/strict";
 * import { DiskStore, Logger, RemoteBackedStore } from "../../mod.ts";
 * import { openRedisStore } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const store = new RemoteBackedStore({
 *   local: await DiskStore.open(dir),
 *   // In real use, say redis://cache.internal:6379; nothing listens on port 1 here.
 *   remote: openRedisStore({ urls: ["redis://127.0.0.1:1"] }),
 *   logger: new Logger(() => {}),
 * });
 * assert.equal(await store.get("ab".repeat(32)), undefined, "a miss, from local disk");
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { openRedisStore, RedisStore } from "./redis_store.ts";
export type { Encoding, RedisStoreOptions } from "./redis_store.ts";
export { formatRedisMemory, openRedisAdmin, RedisAdmin } from "./admin.ts";
export type { RedisAdminOptions, RedisMemory } from "./admin.ts";
export type { RedisConnectOptions } from "./connect.ts";
export { InvalidRedisAddressError } from "./address.ts";
export type { RedisTlsOptions } from "./address.ts";
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
