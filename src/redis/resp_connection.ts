/**
 * A minimal Redis (RESP2) connection on Deno's own TCP and TLS sockets, for the one
 * thing the read path does thousands of times per build: fetch a bulk value. Replies
 * are parsed straight from the socket (`resp_codec.ts`), and a large bulk value is read
 * directly into one buffer of its announced size. Why this exists beside ioredis, and
 * what it gains, is measured in the README's Design section.
 *
 * Commands are pipelined: each is written as soon as it is issued and replies are
 * matched in order. A connection that misses a deadline (`progress_watchdog.ts`) is
 * closed, because its later replies could no longer be matched; the caller opens a new
 * one. Commands cut off by {@linkcode RespConnection.close} fail with a `ClosedError`.
 *
 * `resp_transport.ts` speaks to a standalone server, for every command, through these
 * connections; ioredis is used only for a Cluster or Sentinel.
 *
 * @module
 */

import { type RedisArg, type RedisReply, RedisReplyError } from "./transport.ts";
import {
  encodeCommand,
  RESP_BUFFER_BYTES,
  RespProtocolError,
  RespReader,
  StreamEndedError,
} from "./resp_codec.ts";
import { type ProgressDeadline, ProgressWatchdog } from "./progress_watchdog.ts";
import type { RedisTlsOptions } from "./address.ts";
import { type Clock, SYSTEM_CLOCK } from "../util/clock.ts";
import { concatBytes } from "../util/bytes.ts";
import {
  ClosedError,
  DeadlineError,
  messageOf,
  RemoteAuthError,
  RemoteFullError,
  RemoteTlsError,
  RemoteUnavailableError,
} from "../errors.ts";

export type { ProgressDeadline } from "./progress_watchdog.ts";

/** Options for {@linkcode RespConnection.open}. */
export interface RespConnectionOptions {
  /** Host name or address. */
  host: string;
  /** TCP port. */
  port: number;
  /** Database number. */
  db?: number;
  /** ACL user name. */
  username?: string;
  /** Password. */
  password?: string;
  /** TLS: present to use it, with optional CA and client certificate (PEM). */
  tls?: RedisTlsOptions;
  /** Deadlines for commands; absent, commands wait as long as the socket stays open. */
  deadline?: ProgressDeadline;
  /** The clock the deadlines are measured on; the system's unless given. */
  clock?: Clock;
}

/** A command waiting for its reply. */
interface Pending {
  resolve: (reply: RedisReply) => void;
  reject: (error: Error) => void;
  /** The command's name, for the deadline's message. */
  name: string;
  /** Bytes sent, and received so far as they become known: what its deadline allows for. */
  bytes: number;
  /** When it reached the head of the pipeline: its own transfer started then. */
  since: number;
  /** Where a bulk reply of exactly this length is read, instead of a new array. */
  into: Uint8Array | undefined;
}

/** One pipelined RESP2 connection. */
export class RespConnection {
  #conn: Deno.Conn;
  #pending: Pending[] = [];
  #writing: Promise<void> = Promise.resolve();
  #failure: Error | undefined;
  #clock: Clock;
  #watchdog: ProgressWatchdog | undefined;

  private constructor(conn: Deno.Conn, deadline: ProgressDeadline | undefined, clock: Clock) {
    this.#conn = conn;
    this.#clock = clock;
    if (deadline !== undefined) {
      this.#watchdog = new ProgressWatchdog(
        deadline,
        clock,
        () => this.#pending[0],
        (error) => this.#fail(error),
      );
    }
    this.#readReplies().catch((error: Error) => this.#fail(lost(error)));
  }

  /**
   * Connects, authenticates and selects the database.
   *
   * @param options Where and how.
   * @returns The open connection.
   * @throws {RemoteAuthError} If Redis refuses the credentials; also the connection's
   * own error, or Redis' answer to `SELECT`.
   */
  static async open(options: RespConnectionOptions): Promise<RespConnection> {
    let connection: RespConnection | undefined;
    try {
      connection = new RespConnection(
        await connect(options),
        options.deadline,
        options.clock ?? SYSTEM_CLOCK,
      );
      if (options.password !== undefined) {
        const auth = options.username === undefined
          ? ["AUTH", options.password]
          : ["AUTH", options.username, options.password];
        await connection.command(auth);
      }
      if (options.db !== undefined && options.db !== 0) {
        await connection.command(["SELECT", String(options.db)]);
      } else if (options.password === undefined) {
        // One round trip, so that "connected" means "answering": a TLS 1.3 server that
        // refuses our certificate says so only after the client's handshake is done.
        await connection.command(["PING"]);
      }
      return connection;
    } catch (error) {
      connection?.close();
      if (options.tls === undefined) throw plainAgainstTls(error, options) ?? error;
      throw isRedisAnswer(error) ? error : new RemoteTlsError(
        `the TLS session with ${options.host}:${options.port} failed (${messageOf(error)})`,
        { cause: error },
      );
    }
  }

  /** How many commands wait for their replies. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Whether the connection has failed or been closed. */
  get closed(): boolean {
    return this.#failure !== undefined;
  }

  /**
   * Sends one command; replies come back in order.
   *
   * @param args The command and its arguments; an argument given as several arrays is
   * sent as one value, written part by part (no copy to join them).
   * @param into Where a bulk reply of exactly its length goes (no copy from a buffer of
   * our own): it is then the reply itself.
   * @returns The reply.
   * @throws An error reply, as the typed error `errorFromReply` gives; the connection's
   * error if it fails; a `ClosedError` if it is closed first.
   */
  command(args: readonly RedisArg[], into?: Uint8Array): Promise<RedisReply> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const { parts, reply } = this.#enqueue(args, into);
    this.#write(parts);
    return reply;
  }

  /**
   * Sends commands in one write, so that they travel in one packet when they are small
   * and Redis reads them at once; replies come back in order.
   *
   * @param commands The commands, each with its arguments.
   * @returns Each command's reply (see {@linkcode RespConnection.command}).
   */
  commands(commands: readonly (readonly RedisArg[])[]): Promise<RedisReply>[] {
    const failure = this.#failure;
    if (failure !== undefined) return commands.map(() => Promise.reject(failure));
    const parts: Uint8Array[] = [];
    const replies = commands.map((args) => {
      const queued = this.#enqueue(args, undefined);
      parts.push(...queued.parts);
      return queued.reply;
    });
    this.#write(parts);
    return replies;
  }

  /** Encodes a command and waits for its reply, in the order of sending. */
  #enqueue(
    args: readonly RedisArg[],
    into: Uint8Array | undefined,
  ): { parts: Uint8Array[]; reply: Promise<RedisReply> } {
    const { parts, bytes } = encodeCommand(args);
    // An idle connection's clock starts now, not when it last moved a byte.
    if (this.#pending.length === 0) this.#watchdog?.startedIdle();
    const since = this.#clock.now();
    const reply = new Promise<RedisReply>((resolve, reject) =>
      this.#pending.push({ resolve, reject, name: String(args[0]), bytes, since, into })
    );
    return { parts, reply };
  }

  /** Writes after what is being written, and fails the connection if the write does. */
  #write(parts: Uint8Array[]): void {
    this.#watchdog?.arm();
    this.#writing = this.#writing.then(() => this.#writeAll(parts)).catch((error: Error) =>
      this.#fail(lost(error))
    );
  }

  /** Closes the connection; pending commands fail with a `ClosedError`. */
  close(): void {
    this.#fail(new ClosedError("the connection to Redis was closed"));
  }

  /** Writes small parts joined (one system call), and large ones as they are (no copy). */
  async #writeAll(parts: Uint8Array[]): Promise<void> {
    let small: Uint8Array[] = [];
    let smallBytes = 0;
    const flushSmall = async () => {
      if (small.length === 0) return;
      const joined = concatBytes(small, smallBytes);
      small = [];
      smallBytes = 0;
      await this.#writeFully(joined);
    };
    for (const part of parts) {
      if (part.length < RESP_BUFFER_BYTES) {
        small.push(part);
        smallBytes += part.length;
      } else {
        await flushSmall();
        await this.#writeFully(part);
      }
    }
    await flushSmall();
  }

  async #writeFully(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      const count = await this.#conn.write(bytes.subarray(written));
      written += count;
      this.#watchdog?.wrote(count);
    }
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#watchdog?.stop();
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    for (const pending of this.#pending.splice(0)) pending.reject(error);
  }

  async #readReplies(): Promise<void> {
    const reader = new RespReader(async (into) => {
      const count = await this.#conn.read(into);
      if (count !== null && count > 0) this.#watchdog?.read();
      return count;
    });
    const options = {
      // The reply's size is known now: the head command is allowed the time it takes.
      onBulkLength: (length: number) => {
        if (this.#pending[0] !== undefined) this.#pending[0].bytes += length;
      },
      into: () => this.#pending[0]?.into,
    };
    while (this.#failure === undefined) {
      const reply = await reader.readReply(options);
      const pending = this.#pending.shift();
      if (pending === undefined) throw new Error("Redis sent a reply to no command");
      const next = this.#pending[0];
      if (next !== undefined) next.since = this.#clock.now();
      if (reply instanceof Error) pending.reject(reply);
      else pending.resolve(reply);
    }
  }
}

/**
 * The error that pending commands fail with when the socket fails: a typed error as it
 * is, and the socket's own (a reset, a broken pipe) as the connection lost.
 */
function lost(error: Error): Error {
  if (
    error instanceof DeadlineError || error instanceof ClosedError ||
    error instanceof RemoteUnavailableError || error instanceof RespProtocolError
  ) {
    return error;
  }
  return new RemoteUnavailableError(`the connection to Redis was lost (${error.message})`, {
    cause: error,
  });
}

/**
 * The error for a plain connection that the server dropped before answering anything,
 * which is what a TLS port does with plain text: it names the likely fix.
 */
function plainAgainstTls(error: unknown, options: RespConnectionOptions): Error | undefined {
  const dropped = error instanceof Deno.errors.ConnectionReset ||
    error instanceof StreamEndedError ||
    (error instanceof RemoteUnavailableError && error.cause instanceof Deno.errors.ConnectionReset);
  if (!dropped) return undefined;
  return new RemoteUnavailableError(
    `${options.host}:${options.port} dropped the connection before answering: if it serves ` +
      "TLS, use a rediss:// address (and --redis-tls-ca for a private CA)",
    { cause: error },
  );
}

/** Opens the TCP or TLS socket. */
async function connect(options: RespConnectionOptions): Promise<Deno.Conn> {
  if (options.tls === undefined) {
    const tcp = await Deno.connect({ hostname: options.host, port: options.port });
    tcp.setNoDelay(true);
    return tcp;
  }
  return await Deno.connectTls({
    hostname: options.host,
    port: options.port,
    ...(options.tls.ca === undefined ? {} : { caCerts: [options.tls.ca] }),
    ...(options.tls.cert === undefined || options.tls.key === undefined
      ? {}
      : { cert: options.tls.cert, key: options.tls.key }),
  });
}

/**
 * Whether an error is Redis' own answer, or a failure to reach it at all, rather than
 * a broken TLS session.
 */
function isRedisAnswer(error: unknown): boolean {
  return error instanceof RedisReplyError || error instanceof RemoteAuthError ||
    error instanceof RemoteFullError || error instanceof Deno.errors.ConnectionRefused ||
    error instanceof Deno.errors.NotCapable;
}
