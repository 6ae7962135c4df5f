/**
 * A {@linkcode RemoteStore} in Redis (standalone, Cluster or Sentinel, optionally over
 * TLS). This module is loaded with a dynamic `import()` only when Redis is configured.
 *
 * A standalone server is spoken to only through a small RESP connection of our own
 * (`resp_connection.ts`): ioredis takes about 80 ms of the thread to load, which every go
 * command would pay, reads values at a quarter of the speed, and needs the whole
 * environment. ioredis is loaded only for a Cluster or Sentinel.
 *
 * The value layout is in `redis_format.ts`. Every hit refreshes the entry's TTL
 * (`GETEX ... PX`), so entries in use never expire; every command has a deadline.
 *
 * @module
 */

import type { Cluster, ClusterOptions, Redis, RedisOptions } from "ioredis";
import type { Buffer } from "node:buffer";
import {
  CorruptEntryError,
  type RemoteEntry,
  type RemoteGetOptions,
  type RemoteStore,
} from "../store.ts";
import {
  chunkKey,
  decodeHeader,
  encodeEntry,
  entryKey,
  HEADER_BYTES,
  keyNamespace,
  manifestKey,
} from "./value_format.ts";
import {
  MANIFEST_HEADER_BYTES,
  MANIFEST_RECORD_BYTES,
  MAX_MANIFEST_RECORDS,
} from "../tiered/manifest.ts";
import type { Encoding } from "./value_format.ts";
export type { Encoding } from "./value_format.ts";
import { hostPort, parseRedisAddress, type RedisAddress } from "./address.ts";
import { DeadlineError, withDeadline } from "../util/deadline.ts";
import {
  RespConnection,
  type RespConnectionOptions,
  type RespReply,
  throwIfError,
} from "./resp_connection.ts";
import { concatBytes } from "../util/bytes.ts";
import { messageOf } from "../protocol/wire.ts";

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

const textDecoder = new TextDecoder();

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

/** ioredis and `node:buffer` (which ioredis wants for binary arguments), loaded once. */
interface Ioredis {
  Redis: typeof Redis;
  Cluster: typeof Cluster;
  Buffer: typeof Buffer;
}

let ioredisLoading: Promise<Ioredis> | undefined;

function loadIoredis(): Promise<Ioredis> {
  ioredisLoading ??= Promise.all([import("ioredis"), import("node:buffer")]).then((
    [{ Redis, Cluster }, { Buffer }],
  ) => ({ Redis, Cluster, Buffer }));
  return ioredisLoading;
}

/** A {@linkcode RemoteStore} in Redis. */
export class RedisStore implements RemoteStore {
  readonly description: string;
  /** The latest connection error, for messages. */
  lastError: string | undefined;
  #options: RedisStoreOptions;
  #namespace: string;
  #ttlMillis: number;
  #compress: Encoding;
  #ready: Promise<boolean>;
  #timeoutMillis: number;
  /**
   * A standalone server's connection for everything but background fetches; present
   * exactly when the server is standalone, which every command goes through.
   */
  #demand: Lane | undefined;
  /** The connection for background fetches (a prefetch), so that they never delay a get. */
  #bulk: Lane | undefined;
  /** ioredis: a Cluster's or Sentinel's client. */
  #client: Promise<Client> | undefined;
  /** Set on every successful (re)connection: ioredis keeps reconnecting in the background. */
  #connected = false;

  /**
   * Starts connecting.
   *
   * @param options Where and how.
   */
  constructor(options: RedisStoreOptions) {
    this.#options = options;
    this.#namespace = keyNamespace(options.prefix);
    this.#ttlMillis = options.ttlMillis;
    this.#compress = options.compress;
    this.#timeoutMillis = options.timeoutMillis;
    const { description, standalone } = describeServer(options);
    this.description = description;
    if (standalone !== undefined) {
      const onError = (message: string) => this.lastError = message;
      this.#demand = new Lane(standalone, options.timeoutMillis, onError);
      this.#bulk = new Lane(standalone, options.timeoutMillis, onError);
    }
    this.#ready = this.#demand !== undefined
      ? this.#demand.open().then((lane) => lane !== undefined)
      : this.#ioredis().then((client) =>
        withDeadline(client.connect(), options.timeoutMillis, "connecting").then(
          () => true,
          (error: Error) => {
            this.lastError ??= error.message;
            return false;
          },
        )
      );
  }

  ready(): Promise<boolean> {
    return this.#ready;
  }

  async get(actionId: string, options?: RemoteGetOptions): Promise<RemoteEntry | undefined> {
    const fetchValue = await this.#fetcher(options?.background ? this.#bulk : this.#demand);
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
    // One part (most entries): no copy. Several: one copy.
    const stored = parts.length === 1
      ? plain(parts[0]!)
      : concatBytes(parts, parts.reduce((sum, part) => sum + part.length, 0));
    if (stored.length !== header.storedSize) {
      throw new CorruptEntryError(`it holds ${stored.length} bytes, not ${header.storedSize}`);
    }
    let body: Uint8Array = stored;
    if (header.encoding === "zstd") {
      const { zstdDecompressSync } = await import("node:zlib");
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

  /** How to fetch one value and refresh its TTL, on a standalone server's `lane`. */
  async #fetcher(lane: Lane | undefined): Promise<(key: string) => Promise<Uint8Array | null>> {
    const ttl = String(this.#ttlMillis);
    if (lane !== undefined) {
      return async (key) =>
        bulkOrNull(await this.#command(["GETEX", key, "PX", ttl], lane), "GETEX");
    }
    const client = await this.#usableClient();
    return (key) => client.getexBuffer(key, "PX", this.#ttlMillis);
  }

  /**
   * Sends one command to a standalone server, within the deadline.
   *
   * @throws When there is no connection, or the command fails or misses its deadline.
   */
  async #command(
    args: readonly (string | Uint8Array)[],
    lane: Lane = this.#demand!,
  ): Promise<RespReply> {
    const connection = await lane.open();
    if (connection === undefined) {
      throw new Error(`Redis ${this.description} is not connected (${this.lastError})`);
    }
    try {
      return await withDeadline(
        connection.command(args),
        this.#commandDeadline(args),
        String(args[0]),
      );
    } catch (error) {
      // A missed deadline leaves replies that can no longer be matched: start afresh.
      if (error instanceof DeadlineError || connection.closed) connection.close();
      throw error;
    }
  }

  /** The base deadline, plus 1 s per 10 MB sent (a big SET must not time out at 10 MB/s). */
  #commandDeadline(args: readonly (string | Uint8Array)[]): number {
    const bytes = args.reduce((sum, arg) => sum + arg.length, 0);
    return this.#timeoutMillis + Math.ceil(bytes / 10_000);
  }

  async has(actionId: string, outputId: string): Promise<boolean> {
    const key = entryKey(this.#namespace, actionId);
    const end = String(HEADER_BYTES - 1);
    const head = this.#demand !== undefined
      ? bulkOrNull(await this.#command(["GETRANGE", key, "0", end]), "GETRANGE")
      : await (await this.#usableClient()).getrangeBuffer(key, 0, HEADER_BYTES - 1);
    const header = head === null ? undefined : decodeHeader(head);
    return header !== undefined && header.outputId === outputId;
  }

  async put(actionId: string, entry: RemoteEntry): Promise<void> {
    let stored = entry.body;
    let encoding: Encoding = "none";
    if (this.#compress === "zstd" && entry.body.length >= COMPRESS_MIN_BYTES) {
      const { zstdCompressSync } = await import("node:zlib");
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
    if (this.#demand !== undefined) {
      const ttl = String(this.#ttlMillis);
      const replies = await Promise.all(
        commands.map(([key, value]) => this.#command(["SET", key, value, "PX", ttl])),
      );
      for (const reply of replies) throwIfError(reply);
      return;
    }
    const client = await this.#usableClient();
    const { Buffer } = await loadIoredis();
    const pipeline = client.pipeline();
    for (const [key, value] of commands) {
      pipeline.set(key, asBuffer(Buffer, value), "PX", this.#ttlMillis);
    }
    const results = await pipeline.exec();
    const failure = results?.find(([error]) => error !== null)?.[0];
    if (failure) throw failure;
  }

  async readManifests(names: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const keys = names.map((name) => manifestKey(this.#namespace, name));
    // Plain GET, pipelined: reading a manifest does not extend its life.
    if (this.#demand !== undefined) {
      const values = await Promise.all(keys.map((key) => this.#command(["GET", key])));
      return values.map((value) => bulkOrNull(value, "GET") ?? undefined);
    }
    const client = await this.#usableClient();
    return await Promise.all(keys.map(async (key) => {
      const value = await client.getBuffer(key);
      return value === null ? undefined : plain(value);
    }));
  }

  async writeManifest(
    name: string,
    manifest: { jobHash: string; header: Uint8Array; records: Uint8Array },
  ): Promise<void> {
    const args = [
      manifestKey(this.#namespace, name),
      Uint8Array.fromHex(manifest.jobHash),
      manifest.header,
      manifest.records,
      String(this.#ttlMillis),
      String(MANIFEST_HEADER_BYTES + MAX_MANIFEST_RECORDS * MANIFEST_RECORD_BYTES),
    ] as const;
    if (this.#demand !== undefined) {
      throwIfError(await this.#command(["EVAL", MANIFEST_SCRIPT, "1", ...args]));
      return;
    }
    const client = await this.#usableClient();
    const { Buffer } = await loadIoredis();
    await client.eval(
      MANIFEST_SCRIPT,
      1,
      ...args.map((arg) => typeof arg === "string" ? arg : asBuffer(Buffer, arg)),
    );
  }

  async delete(actionId: string): Promise<void> {
    const key = entryKey(this.#namespace, actionId);
    if (this.#demand !== undefined) throwIfError(await this.#command(["DEL", key]));
    else await (await this.#usableClient()).del(key);
  }

  async ping(): Promise<void> {
    if (this.#demand !== undefined) throwIfError(await this.#command(["PING"]));
    else await (await this.#ioredis()).ping();
  }

  /**
   * Measures one round trip.
   *
   * @returns The time a `PING` took, in milliseconds.
   */
  async pingMillis(): Promise<number> {
    if (!(await this.#ready)) throw new Error(`Redis ${this.description} is not connected`);
    const started = performance.now();
    await this.ping();
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
    await this.#scan(async (batch, send) => {
      for (const length of await send(batch.map((key) => ["STRLEN", key]))) {
        if (typeof length === "number") {
          keys++;
          bytes += length;
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
    await this.#scan(async (batch, send) => {
      // One key per UNLINK: keys of one batch may be in different Cluster slots.
      for (const count of await send(batch.map((key) => ["UNLINK", key]))) {
        if (typeof count === "number") deleted += count;
      }
    });
    return deleted;
  }

  /**
   * Calls `each` with batches of this namespace's keys, node by node, and a way to send
   * commands to the node that holds them (pipelined; an error reply is an `Error`).
   */
  async #scan(
    each: (keys: string[], send: (commands: string[][]) => Promise<unknown[]>) => Promise<void>,
  ): Promise<void> {
    // `{` starts every key of this namespace and ends the prefix, so another prefix that
    // merely starts with this one ("team" and "team-b") is never matched.
    const match = `${escapeGlob(this.#namespace)}{*`;
    if (this.#demand !== undefined) {
      const send = (commands: string[][]) =>
        Promise.all(commands.map((command) => this.#command(command)));
      let cursor = "0";
      do {
        const reply = await this.#command(["SCAN", cursor, "MATCH", match, "COUNT", "1000"]);
        const [next, keys] = Array.isArray(reply) ? reply : [];
        if (!(next instanceof Uint8Array) || !Array.isArray(keys)) {
          throw new Error("Redis answered SCAN with something other than a cursor and keys");
        }
        cursor = textDecoder.decode(next);
        const names = keys.map((key) => textDecoder.decode(key as Uint8Array));
        if (names.length > 0) await each(names, send);
      } while (cursor !== "0");
      return;
    }
    const client = await this.#usableClient();
    const { Cluster } = await loadIoredis();
    const nodes = client instanceof Cluster ? client.nodes("master") : [client as Redis];
    for (const node of nodes) {
      const send = async (commands: string[][]) => {
        const pipeline = node.pipeline();
        for (const [name, ...args] of commands) pipeline.call(name!, ...args);
        return ((await pipeline.exec()) ?? []).map(([error, value]) => error ?? value);
      };
      let cursor = "0";
      do {
        const [next, keys] = await node.scan(cursor, "MATCH", match, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await each(keys, send);
      } while (cursor !== "0");
    }
  }

  /** ioredis' client, created (not connected) on first use. */
  #ioredis(): Promise<Client> {
    this.#client ??= loadIoredis().then((ioredis) => {
      const client = createClient(ioredis, this.#options);
      client.on("ready", () => this.#connected = true);
      // ioredis reports every failed (re)connection; keep the latest for the tiered store,
      // which says once what matters. Without a listener ioredis would print each one.
      client.on("error", (error: Error) => this.lastError = error.message);
      return client;
    });
    return this.#client;
  }

  /** ioredis' client (a Cluster's or Sentinel's) once it is connected. */
  async #usableClient(): Promise<Client> {
    const client = await this.#ioredis();
    if (!this.#connected && !(await this.#ready) && !this.#connected) {
      throw new Error(`Redis ${this.description} is not connected`);
    }
    return client;
  }

  async close(): Promise<void> {
    await Promise.all([this.#demand?.close(), this.#bulk?.close()]);
    if (this.#client !== undefined) (await this.#client).disconnect();
  }
}

/**
 * One connection to a standalone server, opened on first use and again after it breaks
 * (not more than every 5 s).
 */
class Lane {
  #options: RespConnectionOptions;
  #timeoutMillis: number;
  #onError: (message: string) => void;
  #connection: Promise<RespConnection | undefined> | undefined;
  #failedAt = -Infinity;

  constructor(
    options: RespConnectionOptions,
    timeoutMillis: number,
    onError: (message: string) => void,
  ) {
    this.#options = options;
    this.#timeoutMillis = timeoutMillis;
    this.#onError = onError;
  }

  /** The open connection, or `undefined` while it cannot be opened. */
  open(): Promise<RespConnection | undefined> {
    this.#connection = (this.#connection ?? Promise.resolve(undefined)).then((connection) => {
      if (connection !== undefined && !connection.closed) return connection;
      if (performance.now() - this.#failedAt < 5000) return undefined;
      const opening = RespConnection.open(this.#options);
      return withDeadline(opening, this.#timeoutMillis, "connecting").catch((error) => {
        this.#onError(messageOf(error));
        this.#failedAt = performance.now();
        // A connection that opens after its deadline is not used: close it.
        opening.then((late) => late.close(), () => {});
        return undefined;
      });
    });
    return this.#connection;
  }

  async close(): Promise<void> {
    (await this.#connection)?.close();
  }
}

/** How to describe the server, and for a standalone one, where our own connection goes. */
function describeServer(
  options: RedisStoreOptions,
): { description: string; standalone?: RespConnectionOptions } {
  const sentinels = options.sentinels ?? [];
  if (sentinels.length > 0) {
    const nodes = sentinels.map(parseRedisAddress);
    const name = options.sentinelName ?? "mymaster";
    return { description: `sentinel ${name} at ${nodes.map(hostPort).join(",")}` };
  }
  const addresses = options.urls.map(parseRedisAddress);
  if (addresses.length === 0) throw new TypeError("No Redis address given");
  if (addresses.length > 1) {
    return { description: `cluster ${addresses.map(hostPort).join(",")}` };
  }
  const address = addresses[0]!;
  const username = address.username ?? options.username;
  const password = address.password ?? options.password;
  const useTls = options.tls !== undefined || address.tls;
  return {
    description: hostPort(address),
    standalone: {
      host: address.host,
      port: address.port,
      db: address.db,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...(useTls ? { tls: tlsFiles(options) ?? {} } : {}),
    },
  };
}

function tlsFiles(options: RedisStoreOptions): RedisTlsOptions | undefined {
  if (options.tls === undefined) return undefined;
  return {
    ...(options.tls.ca === undefined ? {} : { ca: options.tls.ca }),
    ...(options.tls.cert === undefined ? {} : { cert: options.tls.cert }),
    ...(options.tls.key === undefined ? {} : { key: options.tls.key }),
  };
}

function createClient(ioredis: Ioredis, options: RedisStoreOptions): Client {
  const tls = tlsFiles(options);
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
    return new ioredis.Redis({
      ...common,
      ...credentials({ ...nodes[0]!, tls: false }),
      sentinels: nodes.map(({ host, port }) => ({ host, port })),
      name: options.sentinelName ?? "mymaster",
      sentinelRetryStrategy: (times: number) => (times > 3 ? null : 200 * times),
      enableOfflineQueue: false,
    });
  }
  const addresses = options.urls.map(parseRedisAddress);
  const first = addresses[0]!;
  if (addresses.length === 1) {
    return new ioredis.Redis({
      ...common,
      ...credentials(first),
      host: first.host,
      port: first.port,
      db: first.db,
      enableOfflineQueue: false,
    });
  }
  const { retryStrategy: _unused, ...redisOptions } = { ...common, ...credentials(first) };
  const clusterOptions: ClusterOptions = {
    lazyConnect: true,
    redisOptions,
    slotsRefreshTimeout: options.timeoutMillis,
    clusterRetryStrategy: (times: number) => Math.min(200 * times, 2000),
    enableOfflineQueue: false,
  };
  return new ioredis.Cluster(addresses.map(({ host, port }) => ({ host, port })), clusterOptions);
}

function bulkOrNull(reply: RespReply, command: string): Uint8Array | null {
  if (reply === null || reply instanceof Uint8Array) return reply;
  if (reply instanceof Error) throw reply;
  throw new Error(`Redis answered ${command} with something other than a value`);
}

/** A view of the same bytes as a plain `Uint8Array`, which is what callers compare and keep. */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

function asBuffer(buffer: typeof Buffer, bytes: Uint8Array): Buffer {
  return buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
