/**
 * The remote tier's defaults, in a module of their own: the command line imports them
 * for its flag table before the handshake, and must not load the tier's code to do so
 * (every go command starts this program, and every module evaluated before the
 * handshake delays it).
 *
 * @module
 */

/** Uploads running at once, unless configured. */
export const DEFAULT_UPLOAD_CONCURRENCY = 4;

/** Uploads waiting at most, unless configured; more are dropped (and counted). */
export const DEFAULT_MAX_QUEUED_UPLOADS = 10_000;

/** At close, how long to wait for uploads still queued or running, unless configured. */
export const DEFAULT_UPLOAD_WAIT_MILLIS = 5000;

/** The default prefetch budget: more than a large build's entries. */
export const DEFAULT_PREFETCH_MAX_BYTES = 4 * 1024 ** 3;
