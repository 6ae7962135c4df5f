/**
 * The errors that callers tell apart, by their type and never by their message: a
 * deadline missed (a slow or frozen remote), a corrupt remote value, a remote that is
 * full, one that refuses our credentials, one that cannot be reached, and a command
 * line that cannot be used. Each carries what a caller needs to act on it, and each
 * takes the error that caused it. Everything else is an ordinary `Error`.
 *
 * @module
 */

/** Work that did not finish in time: its remote is slow or frozen, or stopped moving bytes. */
export class DeadlineError extends Error {
  /** What timed out, such as `GETEX` or `connecting`. */
  readonly operation: string;
  /** The deadline that was missed, in milliseconds. */
  readonly millis: number;

  /**
   * Creates the error.
   *
   * @param operation What timed out.
   * @param millis The deadline that was missed, in milliseconds.
   * @param options The underlying error, if any.
   */
  constructor(operation: string, millis: number, options?: ErrorOptions) {
    super(`${operation} timed out after ${Math.round(millis)} ms`, options);
    this.name = "DeadlineError";
    this.operation = operation;
    this.millis = millis;
  }
}

/** A value in a remote store that is not a valid entry: treated as a miss, never served. */
export class CorruptEntryError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the value.
   * @param options The underlying error, if any (a failed decompression, say).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CorruptEntryError";
  }
}

/**
 * A remote entry larger than the caller allowed: a prefetch was told (by a build
 * manifest) to expect a smaller one, and fetched only enough to find out.
 */
export class EntryTooLargeError extends Error {
  /** The entry's size, as its header says. */
  readonly size: number;
  /** The most the caller allowed. */
  readonly limit: number;

  /**
   * Creates the error.
   *
   * @param size The entry's size.
   * @param limit The most the caller allowed.
   * @param options The underlying error, if any.
   */
  constructor(size: number, limit: number, options?: ErrorOptions) {
    super(`the entry holds ${size} bytes, more than the ${limit} expected`, options);
    this.name = "EntryTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The remote store refused a write for lack of memory (Redis' `OOM` reply under
 * `maxmemory` with `noeviction`): it is full, not down, so reads go on.
 */
export class RemoteFullError extends Error {
  /**
   * Creates the error.
   *
   * @param message The store's own words.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RemoteFullError";
  }
}

/**
 * The remote store refused our credentials, or what they allow (Redis' `WRONGPASS`,
 * `NOAUTH`, `NOPERM`): retrying will not help until the configuration changes.
 */
export class RemoteAuthError extends Error {
  /**
   * Creates the error.
   *
   * @param message The store's own words; never a credential.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RemoteAuthError";
  }
}

/**
 * The TLS session with the remote could not be set up: its certificate does not verify
 * against our CA, or it refused ours.
 */
export class RemoteTlsError extends Error {
  /**
   * Creates the error.
   *
   * @param message What failed.
   * @param options The underlying error.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RemoteTlsError";
  }
}

/** The remote store cannot be used now: not connected yet, or its connection was lost. */
export class RemoteUnavailableError extends Error {
  /**
   * Creates the error.
   *
   * @param message Why, naming the store but never a credential.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RemoteUnavailableError";
  }
}

/**
 * Work cut off because its owner closed what it ran on (our own connection, at the end
 * of a session): nothing failed, and nobody should be told.
 */
export class ClosedError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was closed.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ClosedError";
  }
}

/**
 * The command line or the configuration cannot be used as given: the program says why
 * and exits with status 2, before it serves anything.
 */
export class UsageError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong, naming the flag or variable but never a value given.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/**
 * Returns an error's message, or the thrown value as text, for one-line reports.
 *
 * @param error Anything that was thrown.
 * @returns A one-line description.
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The kind of an error, for saying each kind of failure once: its class's name (Deno's
 * own errors name their kind, such as `PermissionDenied` or `NotFound`), never its
 * message, which carries paths and keys.
 *
 * @param error Anything that was thrown.
 * @returns The class's name, or the type of a thrown value that is not an error.
 */
export function errorKind(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
