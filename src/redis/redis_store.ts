/**
 * A {@linkcode RemoteStore} in Redis (standalone, Cluster or Sentinel, optionally over
 * TLS). This module is loaded with a dynamic `import()` only when Redis is configured.
 *
 * It is written once, against a {@linkcode RedisTransport}: our own RESP connections for
 * a standalone server, ioredis for a Cluster or Sentinel (`connect.ts` chooses). The
 * value layout is in `value_format.ts`. Every hit refreshes the entry's TTL
 * (`GETEX ... PX`), so entries in use never expire, except in read-only mode, which
 * reads with `GET` so that a `+@read` user or a replica can serve it. Every command has
 * a deadline. Gets the go command waits on, background fetches and uploads each travel
 * on a lane of their own. Manifests are in `redis_manifests.ts`, the leases of single
 * flight in `redis_leases.ts`, compression in `compression.ts`.
 *
 * @module
 */

import {
  bytesReader,
  type ClaimedGet,
  type LeaseClaim,
  type ManifestWrite,
  type RemoteEntry,
  type RemoteGetOptions,
  type RemoteStore,
  type RemoteUpload,
} from "../store.ts";
import { CorruptEntryError, EntryTooLargeError } from "../errors.ts";
import { freeBuffer } from "../util/bytes.ts";
import {
  CHUNK_BYTES,
  chunkCountOf,
  chunkKey,
  decodeHeader,
  encodeHeader,
  type EntryHeader,
  entryKey,
  HEADER_BYTES,
  keyNamespace,
  MAX_COMPRESSED_BODY_BYTES,
} from "./value_format.ts";
import type { Encoding } from "./value_format.ts";
import { openTransport, type RedisConnectOptions } from "./connect.ts";
import { type Lane, type RedisArg, type RedisTransport, valueOrNull } from "./transport.ts";
import { DEFAULT_REDIS_TTL_MILLIS } from "./defaults.ts";
import { COMPRESS_MIN_BYTES, compressZstd, decompressZstd } from "./compression.ts";
import { readManifests, writeManifest } from "./redis_manifests.ts";
import { claimOrRead, releaseLeases, renewLeases } from "./redis_leases.ts";

export type { Encoding } from "./value_format.ts";

/** How many chunk keys are fetched at once: bounds the memory a big entry holds in flight. */
const CHUNK_WINDOW = 8;

/** How many chunks an upload has in flight: at most this many MiB of its body in memory. */
const UPLOAD_WINDOW = 4;

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
  /**
   * Refresh an entry's TTL when it is read (`GETEX`); without, entries are read with
   * `GET`, which a `+@read` ACL user and a replica allow (read-only mode).
   *
   * @default {true}
   */
  refreshTtl?: boolean;
}

/**
 * Creates a Redis store and starts connecting in the background.
 *
 * @example Share entries through a standalone Redis
 * ```ts
 * import assert from "node:assert/strict";
 * import { openRedisStore } from "./redis_store.ts";
 *
 * // Nothing listens on port 1 here; a real address is redis://cache.internal:6379.
 * const redis = openRedisStore({ urls: ["redis://127.0.0.1:1"], prefix: "team-a" });
 * assert.equal(redis.description, "Redis 127.0.0.1:1");
 * if (await redis.ready()) console.log(await redis.get("ab".repeat(32)));
 * else assert.ok(redis.lastError !== undefined, "it says why");
 * await redis.close();
 * ```
 *
 * @param options Where, how, and the key namespace.
 * @returns The store at once; see {@linkcode RedisStore.ready}.
 * @throws {InvalidRedisAddressError} If an address cannot be read; the message never
 * repeats a password.
 */
export function openRedisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(openTransport(options), options);
}

/** A {@linkcode RemoteStore} in Redis, over a {@linkcode RedisTransport}. */
export class RedisStore implements RemoteStore {
  #transport: RedisTransport;
  /** Whether the transport's values are in buffers of their own, which may be freed. */
  #valuesOwned: boolean;
  /** What the lease operations send through: made once, not on every get. */
  #leaseSender = {
    send: (args: readonly RedisArg[], lane: Lane) => this.#send(args, lane),
    sendTogether: (commands: readonly (readonly RedisArg[])[], lane: Lane) =>
      this.#transport.sendTogether(commands, lane),
  };
  #namespace: string;
  #ttl: string;
  #compress: Encoding;
  #refreshTtl: boolean;

  /**
   * Creates a store over a transport; {@linkcode openRedisStore} opens both.
   *
   * @param transport How commands reach Redis.
   * @param options The key namespace, the TTL and the encoding.
   */
  constructor(
    transport: RedisTransport,
    options: Pick<RedisStoreOptions, "prefix" | "ttlMillis" | "compress" | "refreshTtl"> = {},
  ) {
    this.#transport = transport;
    this.#valuesOwned = transport.valuesOwnTheirBuffers === true;
    this.#namespace = keyNamespace(options.prefix ?? "");
    this.#ttl = String(options.ttlMillis ?? DEFAULT_REDIS_TTL_MILLIS);
    this.#compress = options.compress ?? "none";
    this.#refreshTtl = options.refreshTtl ?? true;
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
   * @param options Whether the fetch is background work (sent on its own connection), and
   * the largest entry wanted.
   * @returns The entry, or `undefined` when Redis has none.
   * @throws {CorruptEntryError} For a value that is not a valid entry.
   * @throws {EntryTooLargeError} For an entry larger than `maxBytes`; only its first
   * value has been read.
   */
  async get(actionId: string, options?: RemoteGetOptions): Promise<RemoteEntry | undefined> {
    const background = options?.background ?? false;
    // The first value on the demand connections; the rest of a big entry on a connection
    // of its own, so that the next small get never waits behind its megabytes.
    const head = await this.#fetchValue(
      entryKey(this.#namespace, actionId),
      background ? "background" : "demand",
    );
    if (head === null) return undefined;
    return await this.#entryOf(actionId, head, options);
  }

  /**
   * Fetches an entry like {@linkcode RedisStore.get} (a get the go command waits on) and,
   * when there is none, takes the action's lease unless another owner holds it, in the
   * same round trip (one script); without a lease to take, reads its holder beside the
   * entry (two `GET`s, which a read-only user may send).
   *
   * @param actionId The ActionID in hex.
   * @param claim Who asks, and the lease's lifetime.
   * @returns The entry, or who holds the lease.
   * @throws {CorruptEntryError} For a value that is not a valid entry.
   */
  async getOrClaim(actionId: string, claim: LeaseClaim): Promise<ClaimedGet> {
    const found = await claimOrRead(
      this.#leaseSender,
      { namespace: this.#namespace, actionId, ttlMillis: this.#refreshTtl ? this.#ttl : undefined },
      claim,
    );
    if (found.head === null) return { entry: undefined, holder: found.holder };
    return { entry: await this.#entryOf(actionId, found.head) };
  }

  /**
   * Extends the leases still held by their owner, in one round trip.
   *
   * @param actionIds The actions.
   * @param owner Their owner.
   * @param leaseMillis Their new lifetime.
   * @returns For each, whether it was still the owner's.
   */
  renewLeases(
    actionIds: readonly string[],
    owner: string,
    leaseMillis: number,
  ): Promise<boolean[]> {
    return renewLeases(this.#leaseSender.send, this.#namespace, {
      actionIds,
      owner,
      leaseMillis,
    });
  }

  /**
   * Ends the leases still held by their owner, in one round trip.
   *
   * @param actionIds The actions.
   * @param owner Their owner.
   */
  releaseLeases(actionIds: readonly string[], owner: string): Promise<void> {
    return releaseLeases(this.#leaseSender.send, this.#namespace, {
      actionIds,
      owner,
    });
  }

  /** The entry whose first value is `head`, its other chunks fetched and all checked. */
  async #entryOf(
    actionId: string,
    head: Uint8Array,
    options?: RemoteGetOptions,
  ): Promise<RemoteEntry> {
    const background = options?.background ?? false;
    const header = decodeHeader(head);
    if (header === undefined) throw new CorruptEntryError("its header is not valid");
    if (options?.maxBytes !== undefined && header.size > options.maxBytes) {
      throw new EntryTooLargeError(header.size, options.maxBytes);
    }
    const stored = await this.#rest(actionId, header, head, background);
    let body = stored;
    if (header.encoding === "zstd") {
      // Never more than the header says (which decodeHeader bounds).
      body = await decompressZstd(stored, header.size);
      if (this.#valuesOwned) freeBuffer(stored);
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
    // A decompressed body is zlib's, which may share its buffer; a plain one is the reply's.
    if (this.#valuesOwned && body === stored) entry.release = () => freeBuffer(body);
    return entry;
  }

  /**
   * The whole stored body: the head's part, and the other chunks read, a window at a
   * time, straight into their place in one array of the stored size.
   */
  async #rest(
    actionId: string,
    header: EntryHeader,
    head: Uint8Array,
    background: boolean,
  ): Promise<Uint8Array> {
    const first = head.subarray(HEADER_BYTES);
    if (header.chunkCount === 1) {
      if (first.length !== header.storedSize) {
        throw new CorruptEntryError(`it holds ${first.length} bytes, not ${header.storedSize}`);
      }
      return first; // most entries: no copy at all
    }
    if (first.length !== header.chunkSize) throw new CorruptEntryError("its first chunk is short");
    const stored = new Uint8Array(header.storedSize);
    stored.set(first);
    if (this.#valuesOwned) freeBuffer(head);
    const lane: Lane = background ? "background" : "bulk";
    for (let start = 1; start < header.chunkCount; start += CHUNK_WINDOW) {
      const window = [];
      for (let index = start; index < Math.min(start + CHUNK_WINDOW, header.chunkCount); index++) {
        const into = stored.subarray(index * header.chunkSize, (index + 1) * header.chunkSize);
        const key = chunkKey(this.#namespace, { actionId, outputId: header.outputId }, index);
        window.push(
          this.#fetchValue(key, lane, into).then((chunk) => {
            if (chunk === null) throw new CorruptEntryError("a chunk is missing");
            if (chunk.length !== into.length) {
              throw new CorruptEntryError("a chunk is not of its size");
            }
            // A transport that cannot read in place (ioredis) gives its own array.
            if (chunk !== into) into.set(chunk);
          }),
        );
      }
      await Promise.all(window);
    }
    return stored;
  }

  /** One value, refreshing its TTL unless read-only; `into` receives it if it fits exactly. */
  async #fetchValue(key: string, lane: Lane, into?: Uint8Array): Promise<Uint8Array | null> {
    const args = this.#refreshTtl ? ["GETEX", key, "PX", this.#ttl] : ["GET", key];
    return valueOrNull(
      await this.#transport.send(args, { lane, ...(into === undefined ? {} : { into }) }),
      args[0]!,
    );
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
    const reply = await this.#send(["GETRANGE", key, "0", String(HEADER_BYTES - 1)], "upload");
    const head = valueOrNull(reply, "GETRANGE");
    const header = head === null ? undefined : decodeHeader(head);
    return header !== undefined && header.outputId === outputId;
  }

  /**
   * Stores an entry: its chunks first and its header last, on one node (the keys share
   * a hash tag), so that a reader that finds the header finds its chunks. The body is read
   * a chunk at a time as it is sent, a few chunks in flight.
   *
   * @param actionId The ActionID in hex.
   * @param entry The entry.
   */
  async put(actionId: string, entry: RemoteUpload): Promise<void> {
    let body = entry.body;
    let encoding: Encoding = "none";
    if (
      this.#compress === "zstd" && entry.size >= COMPRESS_MIN_BYTES &&
      entry.size <= MAX_COMPRESSED_BODY_BYTES
    ) {
      const compressed = await compressZstd(await body.read(0, entry.size));
      if (compressed !== undefined) {
        body = bytesReader(compressed);
        encoding = "zstd";
      }
    }
    const header = encodeHeader({ ...entry, encoding, storedSize: body.size });
    const chunkCount = chunkCountOf(body.size);
    const set = (key: string, value: RedisArg) =>
      this.#send(["SET", key, value, "PX", this.#ttl], "upload");
    for (let start = 1; start < chunkCount; start += UPLOAD_WINDOW) {
      const window = [];
      for (let index = start; index < Math.min(start + UPLOAD_WINDOW, chunkCount); index++) {
        const key = chunkKey(this.#namespace, { actionId, outputId: entry.outputId }, index);
        window.push(body.read(index * CHUNK_BYTES, CHUNK_BYTES).then((chunk) => set(key, chunk)));
      }
      await Promise.all(window);
    }
    const first = await body.read(0, CHUNK_BYTES);
    await set(entryKey(this.#namespace, actionId), [header, first]);
  }

  /**
   * Reads build manifests, at most their size limit each, without extending their life.
   *
   * @param names The manifests' names.
   * @returns Each manifest's bytes, or `undefined` where there is none.
   */
  readManifests(names: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    return readManifests((args, lane) => this.#send(args, lane), this.#namespace, names);
  }

  /**
   * Adds to a build manifest in one script: appends for the same CI job, replaces for
   * another, within the size limit.
   *
   * @param name The manifest's name.
   * @param manifest The job's identity hash, a header for a new manifest, and the records.
   */
  writeManifest(name: string, manifest: ManifestWrite): Promise<void> {
    return writeManifest(
      (args, lane) => this.#send(args, lane),
      { namespace: this.#namespace, name, ttlMillis: this.#ttl },
      manifest,
    );
  }

  /**
   * Removes an entry's header key (its chunks expire with their TTL).
   *
   * @param actionId The ActionID in hex.
   */
  async delete(actionId: string): Promise<void> {
    await this.#send(["DEL", entryKey(this.#namespace, actionId)], "upload");
  }

  /**
   * Checks that Redis answers, with a read (`EXISTS`), which a `+@read` user, a replica
   * and a Cluster node all allow where `PING` may not be.
   */
  async ping(): Promise<void> {
    await this.#send(["EXISTS", entryKey(this.#namespace, "ping")]);
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  #send(args: readonly RedisArg[], lane: Lane = "demand") {
    return this.#transport.send(args, { lane });
  }
}
