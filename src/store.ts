/**
 * The seam between the protocol engine and storage. The engine speaks only to a
 * {@linkcode LocalStore}: the go command needs every hit as a file on local disk, so
 * whatever stores entries elsewhere (Redis, S3, HTTP) is composed behind a local store
 * rather than beside it.
 *
 * @module
 */

/** A cache hit that the go command can use: the output exists as a local file. */
export interface Hit {
  /** The OutputID (SHA-256 of the body) in hex. */
  outputId: string;
  /** The body size in bytes; the file at {@linkcode Hit.diskPath} has exactly this size. */
  size: number;
  /** When the entry was put, in Unix nanoseconds (`go clean -testcache` compares it). */
  timeNanos: bigint;
  /** The absolute path of the body's file; no extension in its last element. */
  diskPath: string;
}

/** What a `put` says about the entry it stores. */
export interface PutRequest {
  /** The ActionID in hex. */
  actionId: string;
  /** The OutputID in hex: the SHA-256 of the body, checked by the engine. */
  outputId: string;
  /** The body size in bytes. */
  size: number;
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

/** A store whose outputs are local files, as the GOCACHEPROG protocol requires. */
export interface LocalStore {
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
  /**
   * Whether background work (an upload, a connection) is in progress that needs the
   * event loop. While it is not, the engine may block the thread reading its input,
   * which is the fastest way to wait for the next request. Absent means never busy.
   */
  busy?(): boolean;
  /** Finishes background work (uploads, flushes) and releases resources. */
  close(): Promise<void>;
}
