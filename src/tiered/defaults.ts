/**
 * The remote tier's defaults, each defined once, in a module of their own: the command
 * line imports them for its flag table before the handshake, and must not load the
 * tier's code to do so (every go command starts this program, and every module
 * evaluated before the handshake delays it).
 *
 * @module
 */

/** Uploads running at once, unless configured. */
export const DEFAULT_UPLOAD_CONCURRENCY = 4;

/** Uploads waiting at most, unless configured; more are dropped (and counted). */
export const DEFAULT_MAX_QUEUED_UPLOADS = 10_000;

/** At close, how long to wait for uploads still queued or running, unless configured. */
export const DEFAULT_UPLOAD_WAIT_MILLIS = 5000;

/** Bytes of upload bodies held in memory at once, beyond the first upload. */
export const UPLOAD_BYTES_IN_FLIGHT = 128 << 20;

/** The default prefetch budget: more than a large build's entries. */
export const DEFAULT_PREFETCH_MAX_BYTES = 4 * 1024 ** 3;

/** Prefetched entries in flight at most, unless configured. */
export const DEFAULT_PREFETCH_WINDOW = 32;

/** Prefetched bytes in flight at most (beyond the first entry), unless configured. */
export const DEFAULT_PREFETCH_WINDOW_BYTES = 32 << 20;

/** How long the circuit breaker stays open before a probe, unless configured. */
export const DEFAULT_BREAKER_COOLDOWN_MILLIS = 5000;

/** Errors in a row that open the circuit breaker (a missed deadline opens it at once). */
export const DEFAULT_BREAKER_FAILURE_THRESHOLD = 3;

/**
 * How long a get may wait for another process of the fleet to compile an action and put
 * it, unless configured: longer than most compiles, short enough that a runner whose
 * build hangs costs the others less than compiling everything themselves.
 */
export const DEFAULT_FLEET_WAIT_MILLIS = 60_000;

/**
 * How long a lease on an action lives unless its owner renews it: a process killed with
 * `kill -9` holds the others up at most this long.
 */
export const DEFAULT_FLEET_LEASE_MILLIS = 5000;
