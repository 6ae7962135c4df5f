/**
 * Reading Redis addresses as users write them, and checking the key prefix they give.
 * Pure, so it can be tested without Redis and used before anything connects.
 *
 * @module
 */

/** TLS material, as file contents, for every connection to Redis. */
export interface RedisTlsOptions {
  /** CA certificate (PEM). */
  ca?: string;
  /** Client certificate (PEM), for mutual TLS. */
  cert?: string;
  /** Client key (PEM), for mutual TLS. */
  key?: string;
}

/** An address that cannot be read: a mistake in the configuration. */
export class InvalidRedisAddressError extends TypeError {
  /**
   * Creates the error.
   *
   * @param message Why, never repeating the address (it may hold a password).
   */
  constructor(message: string) {
    super(message);
    this.name = "InvalidRedisAddressError";
  }
}

/** One Redis endpoint. */
export interface RedisAddress {
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  /** TCP port. */
  port: number;
  /** Database number; 0 unless the URL has a path. */
  db: number;
  /** ACL user from the URL. */
  username?: string;
  /** Password from the URL. */
  password?: string;
  /** Whether the URL asked for TLS (`rediss://`). */
  tls: boolean;
}

/**
 * Parses `host:port`, `host`, `redis://[user:password@]host[:port][/db]` or `rediss://...`.
 *
 * @param text The address.
 * @returns The endpoint.
 * @throws {InvalidRedisAddressError} If the address cannot be read. The message never repeats the
 * address: an address that cannot be read cannot be told apart from its password (which
 * may hold any character, a comma included, where a list of addresses is split).
 */
export function parseRedisAddress(text: string): RedisAddress {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `redis://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    // The URL parser refuses a port beyond 65535 as "not a URL": say what is wrong.
    const port = /:(\d+)(?:\/\d*)?$/.exec(withScheme.replace(/^[a-z]+:\/\/[^@/]*@/i, ""))?.[1];
    if (port !== undefined && Number(port) > 65535) {
      throw new InvalidRedisAddressError(unreadable("its port is not between 1 and 65535"));
    }
    throw new InvalidRedisAddressError(unreadable("it is not a URL"));
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new InvalidRedisAddressError(unreadable("it does not start with redis:// or rediss://"));
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new InvalidRedisAddressError(unreadable("it has no host"));
  const port = url.port === "" ? 6379 : Number(url.port);
  if (port === 0) {
    throw new InvalidRedisAddressError(unreadable("its port is not between 1 and 65535"));
  }
  const path = url.pathname.replace(/^\//, "");
  const db = path === "" ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0) {
    throw new InvalidRedisAddressError(unreadable("its database number is not a number"));
  }
  const address: RedisAddress = { host, port, db, tls: url.protocol === "rediss:" };
  if (url.username !== "") address.username = decodeURIComponent(url.username);
  if (url.password !== "") address.password = decodeURIComponent(url.password);
  return address;
}

/**
 * The host and port of an address, for messages and `--allow-net`.
 *
 * @param address The endpoint.
 * @returns `host:port`, with brackets around an IPv6 host.
 */
export function hostPort(address: RedisAddress): string {
  return address.host.includes(":")
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

function unreadable(why: string): string {
  return `Cannot read a Redis address (${why}): write host:port, or ` +
    "redis://[user:password@]host[:port][/db] with reserved characters in the password " +
    "percent-encoded (or give the password in GOCACHEPROG_REDIS_PASSWORD)";
}

/**
 * Whether a prefix can name a namespace of its own: one without braces, which would
 * change the Cluster hash tag of every key under it (putting a whole namespace in one
 * slot), and would let a namespace's keys match another's pattern (`gocacheprog:{*`, the
 * pattern of the namespace without a prefix, matches `gocacheprog:{x}:...`). Without
 * them, every namespace's keys are `gocacheprog:[<prefix>:]{...}`, and no namespace's
 * pattern matches another's keys.
 *
 * @param prefix The user's prefix.
 * @returns Why it cannot be used, or `undefined` when it can.
 */
export function prefixProblem(prefix: string): string | undefined {
  return /[{}]/.test(prefix)
    ? "the Redis prefix may not hold { or }: they would make it the Cluster hash tag of every key"
    : undefined;
}
