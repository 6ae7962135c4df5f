/**
 * Reading Redis addresses as users write them. Pure, so it can be tested without Redis
 * and used before anything connects.
 *
 * @module
 */

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
 * @throws {TypeError} If the address cannot be read; the message never repeats a
 * password.
 */
export function parseRedisAddress(text: string): RedisAddress {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `redis://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TypeError(`Cannot read the Redis address "${redactAddress(text)}"`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new TypeError(
      `A Redis address starts with redis:// or rediss://, not "${url.protocol}//"`,
    );
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new TypeError(`The Redis address "${redactAddress(text)}" has no host`);
  const port = url.port === "" ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\//, "");
  const db = path === "" ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0) {
    throw new TypeError(`The Redis address "${redactAddress(text)}" has a bad database number`);
  }
  const address: RedisAddress = { host, port, db, tls: url.protocol === "rediss:" };
  if (url.username !== "") address.username = decodeURIComponent(url.username);
  if (url.password !== "") address.password = decodeURIComponent(url.password);
  return address;
}

/**
 * An address with any password replaced by `***`, for messages.
 *
 * @param text An address as the user wrote it.
 * @returns The same address without its password.
 */
export function redactAddress(text: string): string {
  return text.replace(/(\/\/[^:@/]*:)[^@/]*@/, "$1***@");
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
