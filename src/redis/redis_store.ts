/**
 * A {@linkcode RemoteStore} in Redis (standalone, Cluster or Sentinel, optionally over
 * TLS). This module is loaded with a dynamic `import()` only when Redis is configured.
 *
 * It is written once, against a {@linkcode RedisTransport}: our own RESP connections for
 * a standalone server, ioredis for a Cluster or Sentinel (`connect.ts` chooses). The
 * value layout is in `value_format.ts`. Every hit refreshes the entry's TTL
 * (`GETEX ... PX`), so entries in use never expire; every command has a deadline.
 *
 * @module
 */

import type { RemoteEntry, RemoteGetOptions, RemoteStore } from "../store.ts";
import { CorruptEntryError } from "../errors.ts";
import {
  chunkKey,
  decodeHeader,
  encodeEntry,
  entryKey,
  HEADER_BYTES,
  keyNamespace,
  manifestKey,
} from "./value_format.ts";
import type { Encoding } from "./value_format.ts";
import {
  MANIFEST_HEADER_BYTES,
  MANIFEST_RECORD_BYTES,
  MAX_MANIFEST_RECORDS,
} from "../tiered/manifest.ts";
import { concatBytes } from "../util/bytes.ts";
import { openTransport, type RedisConnectOptions } from "./connect.ts";
import { type Lane, type RedisArg, type RedisTransport, valueOrNull } from "./transport.ts";
import { DEFAULT_REDIS_TTL_MILLIS } from "./defaults.ts";

export type { Encoding } from "./value_format.ts";

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

/** Options for {@linkcode openRedisStore}. */
export interface RedisStoreOptions extends RedisConnectOptions {
  /**
   * The key namespace's user part.
   *
   * @default {""}
   */
  prefix?: string;
  /**
   * Entry lifetime after last use, in milliseconds.
   *
   * @default {604800000} (a week)
   */
  ttlMillis?: number;
  /**
   * How bodies are stored.
   *
   * @default {"none"}
   */
  compress?: Encoding;
}

/**
 * Creates a Redis store and starts connecting in the background.
 *
 * @example Share entries through a standalone Redis
 * ```ts ignore
 * import { openRedisStore } from "@gocacheprog/gocacheprog/redis";
 *
 * const redis = openRedisStore({ urls: ["redis://cache.internal:6379"], prefix: "team-a" });
 * if (await redis.ready()) console.log(await redis.get("ab".repeat(32)));
 * await redis.close();
 * ```
 *
 * @param options Where, how, and the key namespace.
 * @returns The store at once; see {@linkcode RedisStore.ready}.
 * @throws {TypeError} If an address cannot be read; the message never repeats a password.
 */
export function openRedisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(openTransport(options), options);
}

/** A {@linkcode RemoteStore} in Redis, over a {@linkcode RedisTransport}. */
export class RedisStore implements RemoteStore {
  #transport: RedisTransport;
  #namespace: string;
  #ttl: string;
  #compress: Encoding;

  /**
   * Creates a store over a transport; {@linkcode openRedisStore} opens both.
   *
   * @param transport How commands reach Redis.
   * @param options The key namespace, the TTL and the encoding.
   */
  constructor(
    transport: RedisTransport,
    options: Pick<RedisStoreOptions, "prefix" | "ttlMillis" | "compress"> = {},
  ) {
    this.#transport = transport;
    this.#namespace = keyNamespace(options.prefix ?? "");
    this.#ttl = String(options.ttlMillis ?? DEFAULT_REDIS_TTL_MILLIS);
    this.#compress = options.compress ?? "none";
  }

  /** Where the server is, for messages: `Redis host:port`, never a credential. */
  get description(): string {
    return this.#transport.description;
  }

  /** The latest connection error, for messages. */
  get lastError(): Error | undefined {
    return this.#transport.lastError;
  }

  /**
   * Resolves once connected, or once connecting has failed.
   *
   * @returns Whether the store can be used.
   */
  ready(): Promise<boolean> {
    return this.#transport.ready();
  }

  /**
   * Fetches an entry, refreshing its TTL: the header key first (one round trip for most
   * entries), then any further chunks, a window at a time.
   *
   * @param actionId The ActionID in hex.
   * @param options Whether the fetch is background work (sent on its own connection).
   * @returns The entry, or `undefined` when Redis has none.
   * @throws {CorruptEntryError} For a value that is not a valid entry.
   */
  async get(actionId: string, options?: RemoteGetOptions): Promise<RemoteEntry | undefined> {
    const lane: Lane = options?.background ? "background" : "demand";
    const fetchValue = async (key: string) =>
      valueOrNull(await this.#send(["GETEX", key, "PX", this.#ttl], lane), "GETEX");
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
      ? parts[0]!
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

  /**
   * Tells whether Redis holds this output for this action, from its header alone.
   *
   * @param actionId The ActionID in hex.
   * @param outputId The OutputID in hex.
   * @returns Whether uploading it again can be skipped.
   */
  async has(actionId: string, outputId: string): Promise<boolean> {
    const key = entryKey(this.#namespace, actionId);
    const reply = await this.#send(["GETRANGE", key, "0", String(HEADER_BYTES - 1)]);
    const head = valueOrNull(reply, "GETRANGE");
    const header = head === null ? undefined : decodeHeader(head);
    return header !== undefined && header.outputId === outputId;
  }

  /**
   * Stores an entry: its chunks first and its header last, on one node (the keys share
   * a hash tag), so that a reader that finds the header finds its chunks.
   *
   * @param actionId The ActionID in hex.
   * @param entry The entry.
   */
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
    const values: [string, Uint8Array][] = chunks.map((chunk, i) => [
      chunkKey(this.#namespace, { actionId, outputId: entry.outputId }, i + 1),
      chunk,
    ]);
    values.push([entryKey(this.#namespace, actionId), head]);
    await Promise.all(
      values.map(([key, value]) => this.#send(["SET", key, value, "PX", this.#ttl])),
    );
  }

  /**
   * Reads build manifests with plain `GET`s: reading a manifest does not extend its life.
   *
   * @param names The manifests' names.
   * @returns Each manifest's bytes, or `undefined` where there is none.
   */
  async readManifests(names: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const values = await Promise.all(
      names.map((name) => this.#send(["GET", manifestKey(this.#namespace, name)])),
    );
    return values.map((value) => valueOrNull(value, "GET") ?? undefined);
  }

  /**
   * Adds to a build manifest in one script: appends for the same CI job, replaces for
   * another, within the size limit.
   *
   * @param name The manifest's name.
   * @param manifest The job's identity hash, a header for a new manifest, and the records.
   */
  async writeManifest(
    name: string,
    manifest: { jobHash: string; header: Uint8Array; records: Uint8Array },
  ): Promise<void> {
    await this.#send([
      "EVAL",
      MANIFEST_SCRIPT,
      "1",
      manifestKey(this.#namespace, name),
      Uint8Array.fromHex(manifest.jobHash),
      manifest.header,
      manifest.records,
      this.#ttl,
      String(MANIFEST_HEADER_BYTES + MAX_MANIFEST_RECORDS * MANIFEST_RECORD_BYTES),
    ]);
  }

  /**
   * Removes an entry's header key (its chunks expire with their TTL).
   *
   * @param actionId The ActionID in hex.
   */
  async delete(actionId: string): Promise<void> {
    await this.#send(["DEL", entryKey(this.#namespace, actionId)]);
  }

  /** Checks that Redis answers. */
  async ping(): Promise<void> {
    await this.#send(["PING"]);
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  #send(args: readonly RedisArg[], lane: Lane = "demand") {
    return this.#transport.send(args, { lane });
  }
}
