/**
 * Administrative commands, for `stats`, `clear --remote` and `doctor`: a round trip, and
 * the keys under this program's namespace counted or deleted with `SCAN` on every server
 * that holds keys (never `KEYS`, which blocks a server, and never `FLUSHALL`).
 *
 * @module
 */

import { RemoteUnavailableError } from "../errors.ts";
import { openTransport, type RedisConnectOptions } from "./connect.ts";
import type { RedisNode, RedisReply, RedisTransport } from "./transport.ts";
import { keyNamespace } from "./value_format.ts";
import { formatBytes } from "../util/format.ts";

const decoder = new TextDecoder();

/** Keys asked for per `SCAN` call. */
const SCAN_COUNT = "1000";

/** What `INFO` says of memory and eviction. */
export interface RedisMemory {
  /** `maxmemory-policy`, such as `allkeys-lru` or `noeviction`. */
  policy: string;
  /** `maxmemory` in bytes; 0 means no limit. */
  maxBytes: number;
  /** Memory used, in bytes. */
  usedBytes: number;
  /** Keys evicted since the server started. */
  evictedKeys: number;
}

/**
 * The memory line of `stats` and `doctor`.
 *
 * @param memory What `INFO` says.
 * @returns `<used> used of <limit>, policy <policy>, <n> keys evicted`.
 */
export function formatRedisMemory(memory: RedisMemory): string {
  const limit = memory.maxBytes === 0 ? "no limit" : formatBytes(memory.maxBytes);
  return `${formatBytes(memory.usedBytes)} used of ${limit}, policy ${memory.policy}, ` +
    `${memory.evictedKeys} keys evicted`;
}

/** Options for {@linkcode openRedisAdmin}. */
export interface RedisAdminOptions extends RedisConnectOptions {
  /**
   * The key namespace's user part: only keys under it are counted or deleted.
   *
   * @default {""}
   */
  prefix?: string;
}

/**
 * Opens an administrative connection and waits until it is connected.
 *
 * @param options Where, how, and the key namespace.
 * @returns The connected administration.
 * @throws {RemoteUnavailableError} If Redis cannot be reached; its `cause` is the
 * connection's error ({@linkcode RemoteAuthError} for refused credentials).
 */
export async function openRedisAdmin(options: RedisAdminOptions): Promise<RedisAdmin> {
  const transport = openTransport(options);
  if (!(await transport.ready())) {
    await transport.close();
    const cause = transport.lastError;
    throw new RemoteUnavailableError(
      `${transport.description} cannot be reached` +
        (cause === undefined ? "" : ` (${cause.message})`),
      { cause },
    );
  }
  return new RedisAdmin(transport, options.prefix ?? "");
}

/** Round trips, and counting or deleting this namespace's keys. */
export class RedisAdmin {
  #transport: RedisTransport;
  #namespace: string;

  /**
   * Creates the administration over a connected transport.
   *
   * @param transport How commands reach Redis.
   * @param prefix The key namespace's user part.
   */
  constructor(transport: RedisTransport, prefix: string) {
    this.#transport = transport;
    this.#namespace = keyNamespace(prefix);
  }

  /** Where the server is, for messages. */
  get description(): string {
    return this.#transport.description;
  }

  /**
   * Measures one round trip.
   *
   * @returns The time a `PING` took, in milliseconds.
   */
  async pingMillis(): Promise<number> {
    const started = performance.now();
    await this.#transport.send(["PING"]);
    return performance.now() - started;
  }

  /**
   * Reads the memory settings and counters from `INFO` (which a managed Redis allows
   * where `CONFIG` may not), on every server that holds keys, summed.
   *
   * @returns The eviction policy (the first server's), the memory limit (0: none), the
   * memory used, and the keys evicted since the server started.
   */
  async memory(): Promise<RedisMemory> {
    const total: RedisMemory = { policy: "unknown", maxBytes: 0, usedBytes: 0, evictedKeys: 0 };
    for (const [index, node] of (await this.#transport.nodes()).entries()) {
      const info = text(await node.send(["INFO"]));
      const field = (name: string) => new RegExp(`^${name}:(\\S+)`, "m").exec(info)?.[1];
      if (index === 0) total.policy = field("maxmemory_policy") ?? "unknown";
      total.maxBytes += Number(field("maxmemory") ?? 0);
      total.usedBytes += Number(field("used_memory") ?? 0);
      total.evictedKeys += Number(field("evicted_keys") ?? 0);
    }
    return total;
  }

  /**
   * Counts the keys under this namespace, and their bytes.
   *
   * @returns The number of keys and the bytes of their values.
   */
  async countKeys(): Promise<{ keys: number; bytes: number }> {
    let keys = 0;
    let bytes = 0;
    await this.#scan(async (batch, node) => {
      const lengths = await Promise.all(batch.map((key) => node.send(["STRLEN", key])));
      for (const length of lengths) {
        if (typeof length === "number") {
          keys++;
          bytes += length;
        }
      }
    });
    return { keys, bytes };
  }

  /**
   * Deletes every key under this namespace, and nothing else, in batches.
   *
   * @returns How many keys were deleted.
   */
  async clear(): Promise<number> {
    let deleted = 0;
    await this.#scan(async (batch, node) => {
      // One key per UNLINK: keys of one batch may be in different Cluster slots.
      const counts = await Promise.all(batch.map((key) => node.send(["UNLINK", key])));
      for (const count of counts) if (typeof count === "number") deleted += count;
    });
    return deleted;
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  /** Calls `each` with batches of this namespace's keys, server by server. */
  async #scan(each: (keys: string[], node: RedisNode) => Promise<void>): Promise<void> {
    // `{` starts every key of this namespace and ends the prefix, so another prefix that
    // merely starts with this one ("team" and "team-b") is never matched.
    const match = `${escapeGlob(this.#namespace)}{*`;
    for (const node of await this.#transport.nodes()) {
      let cursor = "0";
      do {
        const reply = await node.send(["SCAN", cursor, "MATCH", match, "COUNT", SCAN_COUNT]);
        const [next, keys] = Array.isArray(reply) ? reply : [];
        if (!(next instanceof Uint8Array) || !Array.isArray(keys)) {
          throw new TypeError("Redis answered SCAN with something other than a cursor and keys");
        }
        cursor = decoder.decode(next);
        const names = keys.map(text);
        if (names.length > 0) await each(names, node);
      } while (cursor !== "0");
    }
  }
}

function text(reply: RedisReply): string {
  return reply instanceof Uint8Array ? decoder.decode(reply) : String(reply ?? "");
}

function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\]/g, "\\$&");
}
