/**
 * A {@linkcode RemoteStore} in Redis (standalone, Cluster or Sentinel, optionally over
 * TLS), through ioredis. This module is loaded with a dynamic `import()` only when
 * Redis is configured: ioredis takes tens of milliseconds to load and reads the whole
 * environment when it does, which a local-only run should not pay for or allow.
 *
 * The value layout is in `redis_format.ts`. Every hit refreshes the entry's TTL
 * (`GETEX ... PX`), so entries in use never expire; every command has a deadline.
 *
 * @module
 */

import { Cluster, Redis } from "ioredis";
import type { ClusterOptions, RedisOptions } from "ioredis";
import { Buffer } from "node:buffer";
import { zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { CorruptEntryError, type RemoteEntry, type RemoteStore } from "./store.ts";
import {
  chunkKey,
  decodeHeader,
  encodeEntry,
  entryKey,
  HEADER_BYTES,
  keyNamespace,
  manifestKey,
} from "./redis_format.ts";
import { MANIFEST_HEADER_BYTES, MANIFEST_RECORD_BYTES, MAX_MANIFEST_RECORDS } from "./manifest.ts";
import type { Encoding } from "./redis_format.ts";
export type { Encoding } from "./redis_format.ts";
import { hostPort, parseRedisAddress, type RedisAddress } from "./redis_address.ts";
import { DeadlineError, withDeadline } from "./deadline.ts";
import {
  RespConnection,
  type RespConnectionOptions,
  type RespReply,
  throwIfError,
} from "./resp_connection.ts";

/**
 * Adds records to a manifest in one step: append when the stored header names the same
 * CI job (bytes 8-23), replace otherwise; never beyond the size limit; then expire like
 * entries. One key, so it runs on any Cluster node that holds it.
 */
const MANIFEST_SCRIPT = `
local key = KEYS[1]
if redis.call('GETRANGE', key, 8, 23) == ARGV[1] then
  if redis.call('STRLEN', key) + string.len(ARGV[3]) <= tonumber(ARGV[5]) then
    redis.call('APPEND', key, ARGV[3])
  end
else
  redis.call('SET', key, ARGV[2] .. string.sub(ARGV[3], 1, tonumber(ARGV[5]) - string.len(ARGV[2])))
end
redis.call('PEXPIRE', key, ARGV[4])
return 1
`;

/** Bodies smaller than this are stored uncompressed even with compression on. */
const COMPRESS_MIN_BYTES = 1024;

/** How many chunk keys are fetched at once: bounds the memory a big entry holds in flight. */
const CHUNK_WINDOW = 8;

/** TLS material, as file contents. */
export interface RedisTlsOptions {
  /** CA certificate (PEM). */
  ca?: string;
  /** Client certificate (PEM), for mutual TLS. */
  cert?: string;
  /** Client key (PEM), for mutual TLS. */
  key?: string;
}

/** Options for {@linkcode openRedisStore}. */
export interface RedisStoreOptions {
  /** Addresses: one for a standalone server, several for a Cluster. */
  urls: readonly string[];
  /** Sentinel addresses; used instead of `urls` when not empty. */
  sentinels?: readonly string[];
  /** The Sentinel master group's name. */
  sentinelName?: string;
  /** ACL user name (a user in the URL wins). */
  username?: string;
  /** Password (a password in the URL wins). */
  password?: string;
  /** TLS material; TLS is used when this is given or an address is `rediss://`. */
  tls?: RedisTlsOptions;
  /** The key namespace's user part. */
  prefix: string;
  /** Entry lifetime after last use, in milliseconds. */
  ttlMillis: number;
  /** Deadline for connecting and for each command, in milliseconds. */
  timeoutMillis: number;
  /** How bodies are stored. */
  compress: Encoding;
}

/**
 * Creates a Redis store and starts connecting in the background.
 *
 * @param options Where and how.
 * @returns The store at once; see {@linkcode RemoteStore.ready}.
 * @throws {TypeError} If an address cannot be read.
 */
export function openRedisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options);
}

type Client = Redis | Cluster;

/** A {@linkcode RemoteStore} in Redis. */
export class RedisStore implements RemoteStore {
  readonly description: string;
  /** The latest connection error, for messages. */
  lastError: string | undefined;
  #client: Client;
  #namespace: string;
  #ttlMillis: number;
  #compress: Encoding;
  #ready: Promise<boolean>;
  #timeoutMillis: number;
  /** Where the fast read lane connects: standalone servers only. */
  #fastOptions: RespConnectionOptions | undefined;
  #fast: Promise<RespConnection | undefined> | undefined;
  #fastFailedAt = -Infinity;
  /** Set on every successful (re)connection: ioredis keeps reconnecting in the background. */
  #connected = false;

  /**
   * Creates the client and starts connecting.
   *
   * @param options Where and how.
   */
  constructor(options: RedisStoreOptions) {
    this.#namespace = keyNamespace(options.prefix);
    this.#ttlMillis = options.ttlMillis;
    this.#compress = options.compress;
    this.#timeoutMillis = options.timeoutMillis;
    const { client, description, fastLane } = createClient(options);
    this.#client = client;
    this.description = description;
    this.#fastOptions = fastLane;
    client.on("ready", () => this.#connected = true);
    // ioredis reports every failed (re)connection; keep the latest for the tiered store,
    // which says once what matters. Without a listener ioredis would print each one.
    client.on("error", (error: Error) => this.lastError = error.message);
    this.#ready = withDeadline(client.connect(), options.timeoutMillis, "connecting").then(
      () => true,
      (error: Error) => {
        this.lastError ??= error.message;
        return false;
      },
    );
  }

  ready(): Promise<boolean> {
    return this.#ready;
  }

  async get(actionId: string): Promise<RemoteEntry | undefined> {
    await this.#usable();
    const fetchValue = await this.#fetcher();
    const head = await fetchValue(entryKey(this.#namespace, actionId));
    if (head === null) return undefined;
    const header = decodeHeader(head);
    if (header === undefined) throw new CorruptEntryError("its header is not valid");
    const parts: Uint8Array[] = [head.subarray(HEADER_BYTES)];
    for (let start = 1; start < header.chunkCount; start += CHUNK_WINDOW) {
      const window = [];
      for (let index = start; index < Math.min(start + CHUNK_WINDOW, header.chunkCount); index++) {
        const key = chunkKey(this.#namespace, { actionId, outputId: header.outputId }, index);
        window.push(fetchValue(key));
      }
      for (const chunk of await Promise.all(window)) {
        if (chunk === null) throw new CorruptEntryError("a chunk is missing");
        parts.push(chunk);
      }
    }
    // One part (most entries): no copy. Several: one copy into a plain Uint8Array.
    const stored = parts.length === 1 ? plain(parts[0]!) : plain(Buffer.concat(parts));
    if (stored.length !== header.storedSize) {
      throw new CorruptEntryError(`it holds ${stored.length} bytes, not ${header.storedSize}`);
    }
    let body: Uint8Array = stored;
    if (header.encoding === "zstd") {
      try {
        const decompressed = zstdDecompressSync(stored);
        body = new Uint8Array(
          decompressed.buffer,
          decompressed.byteOffset,
          decompressed.byteLength,
        );
      } catch {
        throw new CorruptEntryError("its compressed body cannot be decompressed");
      }
    }
    if (body.length !== header.size) {
      throw new CorruptEntryError(`its body is ${body.length} bytes, not ${header.size}`);
    }
    const entry: RemoteEntry = {
      outputId: header.outputId,
      size: header.size,
      timeNanos: header.timeNanos,
      body,
    };
    if (header.computeMillis !== undefined) entry.computeMillis = header.computeMillis;
    return entry;
  }

  /**
   * How to fetch one value and refresh its TTL: the fast read lane when it is usable,
   * ioredis otherwise.
   */
  async #fetcher(): Promise<(key: string) => Promise<Uint8Array | null>> {
    const lane = await this.#fastLane();
    if (lane === undefined) return (key) => this.#client.getexBuffer(key, "PX", this.#ttlMillis);
    return async (key) => {
      try {
        const reply = await withDeadline(
          lane.command(["GETEX", key, "PX", String(this.#ttlMillis)]),
          this.#timeoutMillis,
          "GETEX",
        );
        return bulkOrNull(reply);
      } catch (error) {
        // A missed deadline leaves replies that can no longer be matched: start afresh.
        if (error instanceof DeadlineError || lane.closed) lane.close();
        throw error;
      }
    };
  }

  /** The fast read lane, opened on first use and again after it breaks (not more than every 5 s). */
  #fastLane(): Promise<RespConnection | undefined> {
    if (this.#fastOptions === undefined) return Promise.resolve(undefined);
    const options = this.#fastOptions;
    this.#fast = (this.#fast ?? Promise.resolve(undefined)).then((lane) => {
      if (lane !== undefined && !lane.closed) return lane;
      if (performance.now() - this.#fastFailedAt < 5000) return undefined;
      return withDeadline(RespConnection.open(options), this.#timeoutMillis, "connecting").catch(
        () => {
          this.#fastFailedAt = performance.now();
          return undefined;
        },
      );
    });
    return this.#fast;
  }

  async has(actionId: string, outputId: string): Promise<boolean> {
    await this.#usable();
    const head = await this.#client.getrangeBuffer(
      entryKey(this.#namespace, actionId),
      0,
      HEADER_BYTES - 1,
    );
    const header = decodeHeader(head);
    return header !== undefined && header.outputId === outputId;
  }

  async put(actionId: string, entry: RemoteEntry): Promise<void> {
    await this.#usable();
    let stored = entry.body;
    let encoding: Encoding = "none";
    if (this.#compress === "zstd" && entry.body.length >= COMPRESS_MIN_BYTES) {
      const compressed = zstdCompressSync(entry.body);
      if (compressed.length < entry.body.length) {
        stored = compressed;
        encoding = "zstd";
      }
    }
    const { head, chunks } = encodeEntry({ ...entry, encoding }, stored);
    // Chunks first and the header last, in one pipeline on one node (the keys share a
    // hash tag): a reader that finds the header finds its chunks.
    const commands: [string, Uint8Array][] = chunks.map((chunk, i) => [
      chunkKey(this.#namespace, { actionId, outputId: entry.outputId }, i + 1),
      chunk,
    ]);
    commands.push([entryKey(this.#namespace, actionId), head]);
    const lane = await this.#fastLane();
    if (lane !== undefined) {
      const ttl = String(this.#ttlMillis);
      const replies = commands.map(([key, value]) => lane.command(["SET", key, value, "PX", ttl]));
      const deadline = this.#timeoutMillis + Math.ceil(stored.length / 10_000); // 10 MB/s at worst
      for (const reply of await withDeadline(Promise.all(replies), deadline, "SET")) {
        throwIfError(reply);
      }
      return;
    }
    const pipeline = this.#client.pipeline();
    for (const [key, value] of commands) pipeline.set(key, asBuffer(value), "PX", this.#ttlMillis);
    const results = await pipeline.exec();
    const failure = results?.find(([error]) => error !== null)?.[0];
    if (failure) throw failure;
  }

  async readManifests(names: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    await this.#usable();
    // Plain GET, pipelined: reading a manifest does not extend its life.
    return await Promise.all(names.map(async (name) => {
      const value = await this.#client.getBuffer(manifestKey(this.#namespace, name));
      return value === null ? undefined : plain(value);
    }));
  }

  async writeManifest(
    name: string,
    manifest: { jobHash: string; header: Uint8Array; records: Uint8Array },
  ): Promise<void> {
    await this.#usable();
    await this.#client.eval(
      MANIFEST_SCRIPT,
      1,
      manifestKey(this.#namespace, name),
      asBuffer(Uint8Array.fromHex(manifest.jobHash)),
      asBuffer(manifest.header),
      asBuffer(manifest.records),
      String(this.#ttlMillis),
      String(MANIFEST_HEADER_BYTES + MAX_MANIFEST_RECORDS * MANIFEST_RECORD_BYTES),
    );
  }

  async delete(actionId: string): Promise<void> {
    await this.#usable();
    await this.#client.del(entryKey(this.#namespace, actionId));
  }

  async ping(): Promise<void> {
    await this.#client.ping();
  }

  /**
   * Measures one round trip.
   *
   * @returns The time a `PING` took, in milliseconds.
   */
  async pingMillis(): Promise<number> {
    await this.#usable();
    const started = performance.now();
    await this.#client.ping();
    return performance.now() - started;
  }

  /**
   * Counts the keys under this store's namespace, and their bytes, with `SCAN` (never
   * `KEYS`, which blocks the server), on every master of a Cluster.
   *
   * @returns The number of keys and the bytes of their values.
   */
  async countKeys(): Promise<{ keys: number; bytes: number }> {
    let keys = 0;
    let bytes = 0;
    await this.#scan(async (node, batch) => {
      const pipeline = node.pipeline();
      for (const key of batch) pipeline.strlen(key);
      for (const [error, length] of (await pipeline.exec()) ?? []) {
        if (error === null) {
          keys++;
          bytes += Number(length);
        }
      }
    });
    return { keys, bytes };
  }

  /**
   * Deletes every key under this store's namespace, and nothing else, with `SCAN` and
   * `UNLINK` in batches (never `FLUSHALL` or `FLUSHDB`).
   *
   * @returns How many keys were deleted.
   */
  async clear(): Promise<number> {
    let deleted = 0;
    await this.#scan(async (node, batch) => {
      // One key per UNLINK: keys of one batch may be in different Cluster slots.
      const pipeline = node.pipeline();
      for (const key of batch) pipeline.unlink(key);
      for (const [error, count] of (await pipeline.exec()) ?? []) {
        if (error === null) deleted += Number(count);
      }
    });
    return deleted;
  }

  /** Calls `each` with batches of this namespace's keys, node by node. */
  async #scan(each: (node: Redis, keys: string[]) => Promise<void>): Promise<void> {
    await this.#usable();
    const nodes = this.#client instanceof Cluster ? this.#client.nodes("master") : [this.#client];
    // `{` starts every key of this namespace and ends the prefix, so another prefix that
    // merely starts with this one ("team" and "team-b") is never matched.
    const match = `${escapeGlob(this.#namespace)}{*`;
    for (const node of nodes) {
      let cursor = "0";
      do {
        const [next, keys] = await node.scan(cursor, "MATCH", match, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await each(node, keys);
      } while (cursor !== "0");
    }
  }

  /** Waits for the first connection; commands are not queued while there is none. */
  async #usable(): Promise<void> {
    if (this.#connected || (await this.#ready) || this.#connected) return;
    throw new Error(`Redis ${this.description} is not connected`);
  }

  async close(): Promise<void> {
    (await this.#fast)?.close();
    this.#client.disconnect();
    await Promise.resolve();
  }
}

function createClient(
  options: RedisStoreOptions,
): { client: Client; description: string; fastLane?: RespConnectionOptions } {
  const tls = options.tls === undefined ? undefined : {
    ...(options.tls.ca === undefined ? {} : { ca: options.tls.ca }),
    ...(options.tls.cert === undefined ? {} : { cert: options.tls.cert }),
    ...(options.tls.key === undefined ? {} : { key: options.tls.key }),
  };
  const common: RedisOptions = {
    lazyConnect: true,
    connectTimeout: options.timeoutMillis,
    commandTimeout: options.timeoutMillis,
    maxRetriesPerRequest: 0,
    // Reading ioredis' own package.json for CLIENT SETINFO needs a read permission we do
    // not grant, and when it is denied a failed TLS handshake can hang connect() forever.
    disableClientInfo: true,
    // Keep trying in the background (the circuit breaker decides whether to use it).
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
  const credentials = (address: RedisAddress): RedisOptions => {
    const username = address.username ?? options.username;
    const password = address.password ?? options.password;
    return {
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...(tls !== undefined || address.tls ? { tls: tls ?? {} } : {}),
    };
  };
  const sentinels = options.sentinels ?? [];
  if (sentinels.length > 0) {
    const nodes = sentinels.map(parseRedisAddress);
    const first = nodes[0]!;
    const name = options.sentinelName ?? "mymaster";
    return {
      client: new Redis({
        ...common,
        ...credentials({ ...first, tls: false }),
        sentinels: nodes.map(({ host, port }) => ({ host, port })),
        name,
        sentinelRetryStrategy: (times: number) => (times > 3 ? null : 200 * times),
        enableOfflineQueue: false,
      }),
      description: `sentinel ${name} at ${nodes.map(hostPort).join(",")}`,
    };
  }
  const addresses = options.urls.map(parseRedisAddress);
  if (addresses.length === 0) throw new TypeError("No Redis address given");
  const first = addresses[0]!;
  if (addresses.length === 1) {
    const auth = credentials(first);
    const fastLane: RespConnectionOptions = {
      host: first.host,
      port: first.port,
      db: first.db,
      ...(auth.username === undefined ? {} : { username: auth.username }),
      ...(auth.password === undefined ? {} : { password: auth.password }),
      ...(auth.tls === undefined ? {} : { tls: tls ?? {} }),
    };
    return {
      fastLane,
      client: new Redis({
        ...common,
        ...credentials(first),
        host: first.host,
        port: first.port,
        db: first.db,
        enableOfflineQueue: false,
      }),
      description: hostPort(first),
    };
  }
  const { retryStrategy: _unused, ...redisOptions } = { ...common, ...credentials(first) };
  const clusterOptions: ClusterOptions = {
    lazyConnect: true,
    redisOptions,
    slotsRefreshTimeout: options.timeoutMillis,
    clusterRetryStrategy: (times: number) => Math.min(200 * times, 2000),
    enableOfflineQueue: false,
  };
  return {
    client: new Cluster(addresses.map(({ host, port }) => ({ host, port })), clusterOptions),
    description: `cluster ${addresses.map(hostPort).join(",")}`,
  };
}

function bulkOrNull(reply: RespReply): Uint8Array | null {
  if (reply === null || reply instanceof Uint8Array) return reply;
  if (reply instanceof Error) throw reply;
  throw new Error("Redis answered GETEX with something other than a value");
}

/** A view of the same bytes as a plain `Uint8Array`, which is what callers compare and keep. */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
