/**
 * The Redis store's defaults, in a module of their own: the command line imports them
 * for `--help` before the handshake, and must not load the Redis code to do so.
 *
 * @module
 */

/** The Sentinel master group's name, unless configured. */
export const DEFAULT_SENTINEL_NAME = "mymaster";

/** How long an unused entry stays in Redis, unless configured: a week. */
export const DEFAULT_REDIS_TTL_MILLIS: number = 7 * 24 * 3600 * 1000;
