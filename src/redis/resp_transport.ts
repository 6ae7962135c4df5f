/**
 * The transport for a standalone Redis server: our own RESP connections
 * (`resp_connection.ts`), one per lane, so that a prefetch's bulk transfers never delay
 * a get the go command waits on. ioredis is never loaded for a standalone server: it
 * took about 80 ms of the thread to load in every go command, read values at a quarter
 * of our connection's speed, and needs the whole environment (measured; see the README).
 *
 * @module
 */

import { DeadlineError, messageOf, RemoteUnavailableError } from "../errors.ts";
import { withDeadline } from "../util/deadline.ts";
import { RespConnection, type RespConnectionOptions } from "./resp_connection.ts";
import {
  commandDeadlineMillis,
  type Lane,
  type RedisArg,
  type RedisNode,
  type RedisReply,
  type RedisTransport,
  type SendOptions,
} from "./transport.ts";

/** After a failed connection attempt, a lane waits this long before trying again. */
const RECONNECT_INTERVAL_MILLIS = 5000;

/** Options for {@linkcode RespTransport}. */
export interface RespTransportOptions {
  /** Where, and with which credentials. */
  connection: RespConnectionOptions;
  /** The description for messages, such as `Redis 127.0.0.1:6379`. */
  description: string;
  /** The deadline for connecting and for each command, in milliseconds. */
  timeoutMillis: number;
}

/** Commands to a standalone server over our own connections, one per lane. */
export class RespTransport implements RedisTransport {
  readonly description: string;
  #lastError: Error | undefined;
  #timeoutMillis: number;
  #lanes: Record<Lane, ConnectionSlot>;
  #ready: Promise<boolean>;

  /**
   * Starts connecting the demand lane.
   *
   * @param options Where, and the deadline.
   */
  constructor(options: RespTransportOptions) {
    this.description = options.description;
    this.#timeoutMillis = options.timeoutMillis;
    const onError = (error: Error) => this.#lastError = error;
    this.#lanes = {
      demand: new ConnectionSlot(options.connection, options.timeoutMillis, onError),
      background: new ConnectionSlot(options.connection, options.timeoutMillis, onError),
    };
    this.#ready = this.#lanes.demand.open().then((connection) => connection !== undefined);
  }

  /** The latest connection error. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  ready(): Promise<boolean> {
    return this.#ready;
  }

  async send(args: readonly RedisArg[], options?: SendOptions): Promise<RedisReply> {
    const connection = await this.#lanes[options?.lane ?? "demand"].open();
    if (connection === undefined) {
      throw new RemoteUnavailableError(
        `${this.description} is not connected` +
          (this.#lastError === undefined ? "" : ` (${this.#lastError.message})`),
      );
    }
    try {
      return await withDeadline(
        connection.command(args),
        commandDeadlineMillis(this.#timeoutMillis, args),
        String(args[0]),
      );
    } catch (error) {
      // A missed deadline leaves replies that can no longer be matched: start afresh.
      if (error instanceof DeadlineError || connection.closed) connection.close();
      throw error;
    }
  }

  nodes(): Promise<RedisNode[]> {
    return Promise.resolve([{ send: (args) => this.send(args) }]);
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.#lanes).map((lane) => lane.close()));
  }
}

/**
 * One connection, opened on first use and again after it breaks (not more than every
 * {@linkcode RECONNECT_INTERVAL_MILLIS}).
 */
class ConnectionSlot {
  #options: RespConnectionOptions;
  #timeoutMillis: number;
  #onError: (error: Error) => void;
  #connection: Promise<RespConnection | undefined> | undefined;
  #failedAt = -Infinity;

  constructor(
    options: RespConnectionOptions,
    timeoutMillis: number,
    onError: (error: Error) => void,
  ) {
    this.#options = options;
    this.#timeoutMillis = timeoutMillis;
    this.#onError = onError;
  }

  /** The open connection, or `undefined` while it cannot be opened. */
  open(): Promise<RespConnection | undefined> {
    this.#connection = (this.#connection ?? Promise.resolve(undefined)).then((connection) => {
      if (connection !== undefined && !connection.closed) return connection;
      if (performance.now() - this.#failedAt < RECONNECT_INTERVAL_MILLIS) return undefined;
      const opening = RespConnection.open(this.#options);
      return withDeadline(opening, this.#timeoutMillis, "connecting").catch((error) => {
        this.#onError(error instanceof Error ? error : new Error(messageOf(error)));
        this.#failedAt = performance.now();
        // A connection that opens after its deadline is not used: close it.
        opening.then((late) => late.close(), () => {});
        return undefined;
      });
    });
    return this.#connection;
  }

  async close(): Promise<void> {
    (await this.#connection)?.close();
  }
}
