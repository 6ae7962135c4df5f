/**
 * How the Redis store speaks to Redis: one interface, {@linkcode RedisTransport}, with
 * two implementations, chosen once when the store is opened. A standalone server goes
 * through our own RESP connections (`resp_transport.ts`); a Cluster or Sentinel through
 * ioredis (`ioredis_transport.ts`), which is loaded only then. The store and the
 * administrative commands are written once, against this interface.
 *
 * Error replies become typed errors here, by their Redis error code (the reply's first
 * word), so that no caller ever matches a message.
 *
 * @module
 */

import { RemoteAuthError, RemoteFullError, RemoteUnavailableError } from "../errors.ts";

/**
 * A command argument: text, binary bytes sent as they are, or a value made of several
 * arrays, written one after the other (a header and a body, with no copy to join them).
 */
export type RedisArg = string | Uint8Array | readonly Uint8Array[];

/**
 * A reply: simple and bulk strings as bytes, integers as numbers, nil as `null`, arrays
 * as arrays. Error replies are thrown (see {@linkcode errorFromReply}).
 */
export type RedisReply = null | number | Uint8Array | RedisReply[];

/**
 * Which connection a command travels on, so that one kind of traffic never queues
 * behind another: the gets the go command waits on (`demand`: an entry's first value),
 * the rest of a big entry the go command waits on (`bulk`), background fetches (a
 * prefetch), and uploads (with their checks, and manifest writes). A transport with one
 * connection per node may ignore it.
 */
export type Lane = "demand" | "bulk" | "background" | "upload";

/**
 * The slowest transfer a command is allowed: beyond its base deadline, each megabyte it
 * sends or receives gives it another second. A link slower than this is not a cache.
 */
export const FLOOR_BYTES_PER_SECOND = 1_000_000;

/** Options for {@linkcode RedisTransport.send}. */
export interface SendOptions {
  /**
   * The connection to use.
   *
   * @default {"demand"}
   */
  lane?: Lane;
  /**
   * Where to read a value reply of exactly this array's length, so that a big entry's
   * chunks land in place with no copy; the reply is then this array.
   */
  into?: Uint8Array;
}

/** One Redis server, for the commands that go to each server in turn (`SCAN`). */
export interface RedisNode {
  /**
   * Sends one command to this server.
   *
   * @param args The command and its arguments.
   * @returns The reply.
   * @throws {RedisReplyError} On an error reply; also the transport's own errors.
   */
  send(args: readonly RedisArg[]): Promise<RedisReply>;
}

/** A way to send commands to Redis, with deadlines, and to know whether it is connected. */
export interface RedisTransport {
  /** Where the server is, for messages (`Redis host:port`); never a credential. */
  readonly description: string;
  /**
   * Whether every bulk value in a reply is in a buffer of its own, which the caller may
   * free once done with it (`freeBuffer`). Not so for ioredis, whose values can be views
   * of the socket's reads. Unset means no.
   */
  readonly valuesOwnTheirBuffers?: boolean;
  /** The latest connection error, if any, for messages and for `doctor`. */
  readonly lastError: Error | undefined;
  /**
   * Resolves once connected, or once connecting has failed.
   *
   * @returns Whether commands can be sent.
   */
  ready(): Promise<boolean>;
  /**
   * Sends one command, routed to the node that holds its key, within the deadline.
   * Commands sent on one lane are answered in order.
   *
   * @param args The command and its arguments.
   * @param options Which lane.
   * @returns The reply.
   * @throws {DeadlineError} If the server does not answer in time.
   * @throws {RemoteUnavailableError} If there is no connection.
   * @throws {RemoteFullError} On an `OOM` reply.
   * @throws {RemoteAuthError} On a `WRONGPASS`, `NOAUTH` or `NOPERM` reply.
   * @throws {RedisReplyError} On any other error reply.
   */
  send(args: readonly RedisArg[], options?: SendOptions): Promise<RedisReply>;
  /**
   * Sends commands back to back on one connection of a lane, so that they travel in one
   * round trip and run in the order given; each as {@linkcode RedisTransport.send} would.
   * On a Cluster, their keys must share one slot.
   *
   * @param commands The commands, each with its arguments.
   * @param lane Which lane.
   * @returns Their replies, in order.
   * @throws What {@linkcode RedisTransport.send} throws, for the first that fails.
   */
  sendTogether(commands: readonly (readonly RedisArg[])[], lane?: Lane): Promise<RedisReply[]>;
  /**
   * The servers that hold keys: one for a standalone server, every master of a Cluster.
   *
   * @returns One node per server.
   */
  nodes(): Promise<RedisNode[]>;
  /** Closes every connection. */
  close(): Promise<void>;
}

/** An error reply from Redis that is not one of the typed remote errors. */
export class RedisReplyError extends Error {
  /** The Redis error code: the reply's first word, such as `ERR` or `READONLY`. */
  readonly code: string;

  /**
   * Creates the error.
   *
   * @param code The error code.
   * @param message The whole reply.
   */
  constructor(code: string, message: string) {
    super(message);
    this.name = "RedisReplyError";
    this.code = code;
  }
}

/**
 * The error an error reply stands for, told apart by its error code.
 *
 * @param text The reply's text, without the leading `-`.
 * @returns A {@linkcode RemoteFullError}, a {@linkcode RemoteAuthError}, or a
 * {@linkcode RedisReplyError}.
 */
export function errorFromReply(text: string): Error {
  const code = /^[A-Z]+/.exec(text)?.[0] ?? "ERR";
  switch (code) {
    case "OOM":
      return new RemoteFullError(text);
    case "WRONGPASS":
    case "NOAUTH":
    case "NOPERM":
      return new RemoteAuthError(text);
    default:
      return new RedisReplyError(code, text);
  }
}

/**
 * The deadline of one command for a transport that can only measure age (ioredis): the
 * base, plus its bytes sent at the floor rate, and `expectedReplyBytes` received.
 *
 * @param baseMillis The deadline of a small command.
 * @param args The command's arguments.
 * @param expectedReplyBytes The reply's size, where it can be foreseen.
 * @returns The deadline, in milliseconds.
 */
export function ageDeadlineMillis(
  baseMillis: number,
  args: readonly RedisArg[],
  expectedReplyBytes = 0,
): number {
  const bytes = args.reduce((sum, arg) => sum + argBytes(arg), expectedReplyBytes);
  return baseMillis + Math.ceil((1000 * bytes) / FLOOR_BYTES_PER_SECOND);
}

/**
 * A reply that must be a value or nil.
 *
 * @param reply The reply.
 * @param command The command, for the error message.
 * @returns The value's bytes, or `null`.
 * @throws {TypeError} If the reply is something else.
 */
export function valueOrNull(reply: RedisReply, command: string): Uint8Array | null {
  if (reply === null || reply instanceof Uint8Array) return reply;
  throw new TypeError(`Redis answered ${command} with something other than a value`);
}

/**
 * An argument's size in bytes, as it goes on the wire (text as UTF-8 counts its
 * characters here: our text arguments are ASCII).
 *
 * @param arg The argument.
 * @returns Its length.
 */
export function argBytes(arg: RedisArg): number {
  if (typeof arg === "string" || arg instanceof Uint8Array) return arg.length;
  return arg.reduce((sum, part) => sum + part.length, 0);
}

/**
 * The error for a command sent while there is no connection, naming the server and the
 * latest connection error.
 *
 * @param description Where the server is.
 * @param lastError The latest connection error, if any.
 * @returns The error.
 */
export function notConnected(
  description: string,
  lastError: Error | undefined,
): RemoteUnavailableError {
  return new RemoteUnavailableError(
    `${description} is not connected` + (lastError === undefined ? "" : ` (${lastError.message})`),
    { cause: lastError },
  );
}
