/**
 * The seam between the protocol engine and storage. The engine speaks only to a
 * {@linkcode CacheStore}: the go command needs every hit as a file on local disk, so
 * whatever stores entries elsewhere (Redis, S3, HTTP) is a {@linkcode RemoteStore},
 * composed behind a {@linkcode LocalStore} rather than beside it.
 *
 * @module
 */

/**
 * The deadline for one remote operation, and for connecting, unless configured: a
 * remote that takes longer is treated as unavailable.
 */
export const DEFAULT_REMOTE_TIMEOUT_MILLIS = 1000;

/**
 * The largest entry a remote store holds: larger ones are not uploaded (memory for one
 * upload stays bounded), and a remote value that claims more is not an entry.
 */
export const MAX_REMOTE_ENTRY_BYTES = 512 << 20;

/**
 * How long a remote store may take to connect, unless configured. Connecting goes on in
 * the background while builds go on from local disk, so a Cluster that is slow to load
 * and discover under a busy CPU still connects, and the uploads wait for it.
 */
export const DEFAULT_CONNECT_TIMEOUT_MILLIS = 10_000;

/** What every store says of an entry's output, whatever else it keeps beside it. */
export interface EntryDescription {
  /** The OutputID (SHA-256 of the body) in hex. */
  outputId: string;
  /** The body size in bytes. */
  size: number;
  /** When the entry was put, in Unix nanoseconds (`go clean -testcache` compares it). */
  timeNanos: bigint;
  /**
   * How long the go command took to produce the entry (from its miss to its put), when
   * known: the compile time a hit of it replaces.
   */
  computeMillis?: number;
}

/** A cache hit that the go command can use: the output exists as a local file. */
export interface Hit extends EntryDescription {
  /** The absolute path of the body's file, of exactly `size` bytes; no extension. */
  diskPath: string;
  /** Which tier answered, when a store has more than one; absent means local. */
  source?: "local" | "remote";
}

/** What a `put` says about the entry it stores; the put time is now unless given. */
export interface PutRequest
  extends Omit<EntryDescription, "timeNanos">, Partial<Pick<EntryDescription, "timeNanos">> {
  /** The ActionID in hex. */
  actionId: string;
}

/**
 * Receives one entry's body as it is read from the go command, then either stores it
 * (`commit`) or discards it (`abort`). Exactly one of the two is called, after the
 * last `write`.
 */
export interface PutWriter {
  /**
   * Takes the next piece of the body. Awaited: a slow writer slows the reader.
   *
   * @param chunk Body bytes; a new array each time, which the writer may keep.
   */
  write(chunk: Uint8Array): void | Promise<void>;
  /**
   * Stores the entry, once the engine has checked the body's size and hash.
   *
   * @returns The stored entry as a hit, at once or as a promise.
   */
  commit(): Hit | Promise<Hit>;
  /** Discards whatever was written. */
  abort(): Promise<void>;
}

/**
 * What a store does besides answering, for the engine's scheduling: whether work of its
 * own needs the event loop, and work it put off so as to answer sooner.
 */
export interface BackgroundWork {
  /**
   * Whether work of the store's own is in progress that needs the event loop
   * (connecting, uploads, fetches). While none is, and nothing else is in progress, the
   * engine may block the thread reading its input, the fastest way to wait for the next
   * request.
   *
   * @returns `true` while such work is in progress.
   */
  busy(): boolean;
  /**
   * Does what the store deferred so as to answer sooner (writing the entry file of a
   * remote hit whose output is already in place). The engine calls it synchronously
   * once every request has been answered and written, while the go command is busy
   * with the answers.
   */
  runDeferred(): void;
}

/**
 * What the protocol engine serves from: a store whose every hit is a local file, as the
 * GOCACHEPROG protocol requires. The disk store is one; a remote-backed store, which
 * fills a local store from a remote one, is another.
 */
export interface CacheStore {
  /**
   * Looks an entry up.
   *
   * @param actionId The ActionID in hex.
   * @returns The hit, or `undefined` on a miss, at once or as a promise. A store that can
   * answer at once should: the engine then answers without a trip through the event
   * loop. Throws (or rejects) only on real failures, which the engine reports and
   * answers as errors.
   */
  get(actionId: string): Hit | undefined | Promise<Hit | undefined>;
  /**
   * Starts storing an entry; the engine then streams the body into the writer.
   *
   * @param request The entry's IDs and size.
   * @returns The writer for its body.
   */
  startPut(request: PutRequest): PutWriter;
  /** Finishes background work (uploads, deferred writes) and releases resources. */
  close(): Promise<void>;
  /** The store's own work, when it has any; absent means it never has. */
  readonly background?: BackgroundWork;
}

/** Who waits on a write: a get of the go command's (`demand`), or nobody (`background`). */
export type Urgency = "demand" | "background";

/** An entry's body read a piece at a time, closed when done. */
export interface OutputBody extends BodyReader, Disposable {}

/**
 * A {@linkcode CacheStore} on local disk, which a remote tier fills: it can also tell
 * cheaply whether it holds an entry, store a whole entry fetched from elsewhere, and
 * read a stored output back for an upload.
 */
export interface LocalStore extends CacheStore {
  /**
   * Tells whether an entry is stored, cheaply and without counting as a use, for
   * planning background work such as a prefetch. It may say yes for an entry that a
   * get would then find incomplete.
   *
   * @param actionId The ActionID in hex.
   * @returns Whether the entry is stored, as far as a cheap check can tell.
   */
  has(actionId: string): boolean;
  /**
   * Stores a whole entry fetched from elsewhere, once its body is checked against it:
   * its size, and its SHA-256 against its OutputID. The store chooses how to do the
   * work from who waits on it: a get waiting is answered as soon as the go command can
   * use the hit, and background work leaves the event loop's thread to the go command.
   *
   * @param request The entry's IDs, size and put time.
   * @param body The body.
   * @param urgency Who waits on it.
   * @returns The hit the entry now gives.
   * @throws {CorruptEntryError} If the body is not the entry's.
   */
  storeFetched(request: PutRequest, body: Uint8Array, urgency: Urgency): Promise<Hit>;
  /**
   * Opens a stored output, to read it a piece at a time.
   *
   * @param outputId The OutputID in hex.
   * @param size Its size, as its entry records it.
   * @returns The body, or `undefined` when the output is gone or not of that size (a
   * `go clean -cache`, a trim): there is nothing to read.
   */
  openOutput(outputId: string, size: number): Promise<OutputBody | undefined>;
}

/** One entry as a remote store holds it: its description and its whole body. */
export interface RemoteEntry extends EntryDescription {
  /** The body. */
  body: Uint8Array;
  /**
   * Frees the body's memory at once, when the store read it into a buffer of its own: the
   * caller calls it once the body is stored (and reads the body no more). A store whose
   * bodies share memory with other data leaves it out.
   */
  release?: () => void;
}

/**
 * An entry's body read a piece at a time, so that an upload never holds a whole big
 * body in memory, nor stalls the event loop copying one.
 */
export interface BodyReader {
  /** The body's size in bytes. */
  readonly size: number;
  /**
   * Reads part of the body.
   *
   * @param offset Where to start.
   * @param length How many bytes; fewer only at the end of the body.
   * @returns The bytes, in a new array.
   * @throws If the body cannot be read (its file was removed, say).
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/**
 * A reader over bytes already in memory.
 *
 * @example Read a body in pieces
 * ```ts
 * import assert from "node:assert/strict";
 * import { bytesReader } from "./store.ts";
 *
 * const reader = bytesReader(new TextEncoder().encode("archive"));
 * assert.equal(reader.size, 7);
 * assert.equal(new TextDecoder().decode(await reader.read(2, 3)), "chi");
 * ```
 *
 * @param bytes The body.
 * @returns A reader of it.
 */
export function bytesReader(bytes: Uint8Array): BodyReader {
  return {
    size: bytes.length,
    read: (offset, length) => Promise.resolve(bytes.slice(offset, offset + length)),
  };
}

/** An entry to store in a remote store: its description, and its body to read. */
export interface RemoteUpload extends EntryDescription {
  /** The body, read as the store needs it. */
  body: BodyReader;
}

/** How a {@linkcode RemoteStore} fetch is made. */
export interface RemoteGetOptions {
  /**
   * A background fetch (a prefetch) that nobody waits on: the store may send it on a
   * connection of its own, so that bulk transfers never delay the gets the go command
   * waits on.
   *
   * @default {false}
   */
  background?: boolean;
  /**
   * The largest entry wanted: a larger one is refused with an `EntryTooLargeError` as
   * soon as its size is known, before the rest of it is transferred.
   */
  maxBytes?: number;
}

/** What a build manifest write adds: who writes, a header for a new manifest, and records. */
export interface ManifestWrite {
  /** The CI job's identity hash (32 hex digits): its go commands append to one manifest. */
  jobHash: string;
  /** The header of a new manifest, used when the stored one is another job's. */
  header: Uint8Array;
  /** The records to add. */
  records: Uint8Array;
}

/**
 * How a get that may claim an action is made (single flight across the fleet): who asks,
 * and for how long a lease it takes when the action is missing.
 */
export interface LeaseClaim {
  /** Who asks: this process, by an identity no other process of the fleet has. */
  owner: string;
  /**
   * How long a lease taken lives unless renewed, in milliseconds. Absent: look only (a
   * read-only runner, which never puts, waits for others but never claims).
   */
  leaseMillis?: number;
}

/**
 * What a claiming get found: the entry, or, when there is none, who holds the action's
 * lease (the asker's own identity when it has just taken it; `undefined` when nobody
 * holds it, which only a get that looks without claiming finds).
 */
export type ClaimedGet =
  | { entry: RemoteEntry; holder?: undefined }
  | { entry: undefined; holder: string | undefined };

/**
 * A store of whole entries elsewhere (Redis; later S3 or HTTP). It knows nothing of the
 * protocol or of local files: the store in front of it verifies what it returns and
 * keeps the files the go command needs in a {@linkcode LocalStore}.
 *
 * Every operation settles on its own, within the store's deadlines, and fails with an
 * error whose type says what happened (see `errors.ts`): `DeadlineError` when the remote
 * stopped answering, `RemoteFullError` when it refused a write for lack of memory,
 * `RemoteAuthError` when it refused the credentials, `RemoteUnavailableError` when it is
 * not connected, `CorruptEntryError` for a value that is not an entry, `ClosedError`
 * for work cut off by `close()`.
 */
export interface RemoteStore {
  /** Where the store is, for messages; never contains credentials. */
  readonly description: string;
  /** The latest connection error, if the store knows one, for messages. */
  readonly lastError?: Error | undefined;
  /**
   * Resolves once the store can be used, or fails to be.
   *
   * @returns Whether it is usable.
   */
  ready(): Promise<boolean>;
  /**
   * Fetches an entry.
   *
   * @param actionId The ActionID in hex.
   * @param options Whether the fetch is background work.
   * @returns The entry, or `undefined` on a miss. Rejects with a `CorruptEntryError`
   * for a value that cannot be an entry, an `EntryTooLargeError` beyond `maxBytes`, and
   * with other errors when the store cannot be reached.
   */
  get(actionId: string, options?: RemoteGetOptions): Promise<RemoteEntry | undefined>;
  /**
   * Tells whether the store already holds this output for this action.
   *
   * @param actionId The ActionID in hex.
   * @param outputId The OutputID in hex.
   * @returns Whether uploading it again can be skipped.
   */
  has(actionId: string, outputId: string): Promise<boolean>;
  /**
   * Stores an entry, reading its body as it goes.
   *
   * @param actionId The ActionID in hex.
   * @param entry The entry.
   */
  put(actionId: string, entry: RemoteUpload): Promise<void>;
  /**
   * Removes an entry (one found to be corrupt, say).
   *
   * @param actionId The ActionID in hex.
   */
  delete(actionId: string): Promise<void>;
  /**
   * Reads build manifests, without refreshing their lifetime (optional: stores without
   * manifests do not prefetch).
   *
   * @param names The manifests' names.
   * @returns Each manifest's bytes, or `undefined` where there is none.
   */
  readManifests?(names: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  /**
   * Adds to a build manifest: appends when it was started by the same CI job, replaces
   * it otherwise.
   *
   * @param name The manifest's name.
   * @param manifest The job's identity, a header for a new manifest, and the records.
   */
  writeManifest?(name: string, manifest: ManifestWrite): Promise<void>;
  /**
   * Fetches an entry like {@linkcode RemoteStore.get} and, when there is none, claims the
   * action in the same round trip: takes its lease unless another process holds it
   * (optional: a store without leases is never waited on).
   *
   * @param actionId The ActionID in hex.
   * @param claim Who asks, and the lease to take; without `leaseMillis`, only looks.
   * @returns The entry, or who holds the lease.
   */
  getOrClaim?(actionId: string, claim: LeaseClaim): Promise<ClaimedGet>;
  /**
   * Extends the leases an owner holds, in one round trip.
   *
   * @param actionIds The actions.
   * @param owner Their owner.
   * @param leaseMillis Their new lifetime.
   * @returns For each, whether it was still the owner's (and so was extended).
   */
  renewLeases?(
    actionIds: readonly string[],
    owner: string,
    leaseMillis: number,
  ): Promise<boolean[]>;
  /**
   * Ends the leases an owner holds (those another process has taken since are left alone),
   * in one round trip.
   *
   * @param actionIds The actions.
   * @param owner Their owner.
   */
  releaseLeases?(actionIds: readonly string[], owner: string): Promise<void>;
  /** Checks that the store answers; rejects if not. */
  ping(): Promise<void>;
  /** Releases connections; operations in flight fail with a `ClosedError`. */
  close(): Promise<void>;
}
