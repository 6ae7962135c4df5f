/**
 * The transport for a standalone Redis server: our own RESP connections
 * (`resp_connection.ts`), one per lane, so that neither a prefetch's bulk transfers nor
 * an upload's ever delay a get the go command waits on. ioredis is never loaded for a
 * standalone server: it is slower to load and to read values, and needs the whole
 * environment (measured in the README's Design section).
 *
 * Commands have progress deadlines (see `progress_watchdog.ts`), so a big transfer on a
 * slow link is never taken for a dead server.
 *
 * @module
 */

import { messageOf } from "../errors.ts";
import { withDeadline } from "../util/clock.ts";
import { RespConnection, type RespConnectionOptions } from "./resp_connection.ts";
import {
  FLOOR_BYTES_PER_SECOND,
  type Lane,
  notConnected,
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
  /** The most time without progress for a command, in milliseconds. */
  timeoutMillis: number;
  /** The most time for connecting, in milliseconds. */
  connectTimeoutMillis: number;
}

/**
 * Connections for the gets the go command waits on: two, so that a small get never
 * waits behind another's first megabyte (the go command asks for two at a time, at
 * `-p 2`). The second opens only when the first is busy.
 */
const DEMAND_CONNECTIONS = 2;

/**
 * Commands to a standalone server over our own connections: a pair for demand gets, and
 * one each for the rest of big demand entries, background fetches, and uploads.
 */
export class RespTransport implements RedisTransport {
  readonly description: string;
  /** Our RESP reader reads each value into an array of its own (or into the caller's). */
  readonly valuesOwnTheirBuffers = true;
  #lastError: Error | undefined;
  #lanes: Record<Exclude<Lane, "demand">, ConnectionSlot>;
  #demand: ConnectionSlot[];
  #ready: Promise<boolean>;

  /**
   * Starts connecting the demand lane.
   *
   * @param options Where, and the deadline.
   */
  constructor(options: RespTransportOptions) {
    this.description = options.description;
    const connection: RespConnectionOptions = {
      ...options.connection,
      deadline: { stallMillis: options.timeoutMillis, floorBytesPerSecond: FLOOR_BYTES_PER_SECOND },
    };
    const onError = (error: Error) => this.#lastError = error;
    const slot = () => new ConnectionSlot(connection, options.connectTimeoutMillis, onError);
    this.#demand = Array.from({ length: DEMAND_CONNECTIONS }, slot);
    this.#lanes = { bulk: slot(), background: slot(), upload: slot() };
    this.#ready = this.#demand[0]!.open().then((connection) => connection !== undefined);
  }

  /** The latest connection error. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  ready(): Promise<boolean> {
    return this.#ready;
  }

  send(args: readonly RedisArg[], options?: SendOptions): Promise<RedisReply> {
    return this.#onConnection(
      options?.lane ?? "demand",
      (connection) => connection.command(args, options?.into),
    );
  }

  sendTogether(
    commands: readonly (readonly RedisArg[])[],
    lane: Lane = "demand",
  ): Promise<RedisReply[]> {
    // One connection for all: on the demand lane's two, each command would otherwise take
    // one, and the next get would find neither idle.
    return this.#onConnection(
      lane,
      (connection) => Promise.all(connection.commands(commands)),
    );
  }

  /** Queues commands on a connection of the lane, opening it if need be. */
  #onConnection<T>(lane: Lane, queue: (connection: RespConnection) => Promise<T>): Promise<T> {
    // The connection is chosen and the commands queued on it in one synchronous step, so
    // that the next send sees it busy.
    const slot = lane === "demand" ? this.#demandSlot() : this.#lanes[lane];
    const connection = slot.current;
    if (connection !== undefined) return queue(connection);
    return slot.open().then((opened) => {
      if (opened === undefined) throw notConnected(this.description, this.#lastError);
      // A connection that fails (a missed deadline among others) closes itself; the lane
      // opens a new one for the next command.
      return queue(opened);
    });
  }

  /** An idle demand connection's slot, else one not open yet, else the least busy. */
  #demandSlot(): ConnectionSlot {
    const open = this.#demand.filter((slot) => slot.current !== undefined);
    const idle = open.find((slot) => slot.current!.pending === 0);
    if (idle !== undefined) return idle;
    const unopened = this.#demand.find((slot) => slot.current === undefined);
    if (unopened !== undefined) return unopened;
    return open.reduce((least, slot) =>
      slot.current!.pending < least.current!.pending ? slot : least
    );
  }

  nodes(): Promise<RedisNode[]> {
    return Promise.resolve([{ send: (args) => this.send(args) }]);
  }

  close(): Promise<void> {
    for (const slot of [...this.#demand, ...Object.values(this.#lanes)]) slot.close();
    return Promise.resolve();
  }
}

/**
 * One connection, opened on first use and again after it breaks (not more than every
 * {@linkcode RECONNECT_INTERVAL_MILLIS}).
 */
class ConnectionSlot {
  #options: RespConnectionOptions;
  #connectTimeoutMillis: number;
  #onError: (error: Error) => void;
  #connection: Promise<RespConnection | undefined> | undefined;
  #current: RespConnection | undefined;
  #failedAt = -Infinity;
  #closed = false;

  constructor(
    options: RespConnectionOptions,
    connectTimeoutMillis: number,
    onError: (error: Error) => void,
  ) {
    this.#options = options;
    this.#connectTimeoutMillis = connectTimeoutMillis;
    this.#onError = onError;
  }

  /** The connection if it is open and usable now, without waiting. */
  get current(): RespConnection | undefined {
    return this.#current !== undefined && !this.#current.closed ? this.#current : undefined;
  }

  /** The open connection, or `undefined` while it cannot be opened (or once closed). */
  open(): Promise<RespConnection | undefined> {
    this.#connection = (this.#connection ?? Promise.resolve(undefined)).then((connection) => {
      if (this.#closed) return undefined;
      if (connection !== undefined && !connection.closed) return connection;
      if (performance.now() - this.#failedAt < RECONNECT_INTERVAL_MILLIS) return undefined;
      const opening = RespConnection.open(this.#options);
      return withDeadline(opening, this.#connectTimeoutMillis, "connecting").then((opened) => {
        // Closed while connecting: nobody wants it any more.
        if (this.#closed) {
          opened.close();
          return undefined;
        }
        this.#current = opened;
        return opened;
      }, (error) => {
        this.#onError(error instanceof Error ? error : new Error(messageOf(error)));
        this.#failedAt = performance.now();
        // A connection that opens after its deadline is not used: close it.
        opening.then((late) => late.close(), () => {});
        return undefined;
      });
    });
    return this.#connection;
  }

  /**
   * Closes the connection, and one still being opened once it opens: without waiting for
   * it, so that a session whose remote never answered ends at once.
   */
  close(): void {
    this.#closed = true;
    this.#current?.close();
    this.#connection?.then((connection) => connection?.close(), () => {});
  }
}
