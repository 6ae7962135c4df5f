/**
 * RESP2, the Redis protocol, over bytes: commands encoded as the parts to write, and
 * replies parsed from whatever reads bytes (a socket, or an array in a test). Nothing
 * here touches a socket or a clock, so the parser is tested on its own, with replies
 * split anywhere, malformed or cut short.
 *
 * A large bulk value is read straight into one array of its announced size (or into one
 * the caller gives, for a chunk that has its place in a larger body), with no copies
 * through intermediate buffers.
 *
 * @module
 */

import { errorFromReply, type RedisArg, type RedisReply } from "./transport.ts";
import { RemoteUnavailableError } from "../errors.ts";

/** Reads bytes into `into`; the count read, or `null` at the end of the stream. */
export type ReadInto = (into: Uint8Array) => Promise<number | null>;

/** A reply that does not follow RESP2: the stream cannot be followed any further. */
export class RespProtocolError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RespProtocolError";
  }
}

/** The stream ended inside a reply, or before one: the server closed the connection. */
export class StreamEndedError extends RemoteUnavailableError {
  /**
   * Creates the error.
   *
   * @param message What ended.
   */
  constructor(message: string) {
    super(message);
    this.name = "StreamEndedError";
  }
}

/** The read buffer's size, and the largest reply line accepted. */
export const RESP_BUFFER_BYTES = 1 << 16;

const CR = 0x0d;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const INTEGER = /^-?\d+$/;

/**
 * Encodes a command as the parts to write, in order: an argument given as several
 * arrays is written part by part, with no copy to join them.
 *
 * @example The parts of a small command
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeCommand } from "./resp_codec.ts";
 *
 * const { parts, bytes } = encodeCommand(["GET", "k"]);
 * const text = parts.map((part) => new TextDecoder().decode(part)).join("");
 * assert.equal(text, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
 * assert.equal(bytes, 4);
 * ```
 *
 * @param args The command and its arguments.
 * @returns The parts, and the arguments' own bytes (what a deadline allows time for).
 */
export function encodeCommand(args: readonly RedisArg[]): { parts: Uint8Array[]; bytes: number } {
  const parts: Uint8Array[] = [encoder.encode(`*${args.length}\r\n`)];
  let bytes = 0;
  for (const arg of args) {
    const pieces = typeof arg === "string"
      ? [encoder.encode(arg)]
      : arg instanceof Uint8Array
      ? [arg]
      : arg;
    const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
    parts.push(encoder.encode(`$${length}\r\n`), ...pieces, encoder.encode("\r\n"));
    bytes += length;
  }
  return { parts, bytes };
}

/** Options for {@linkcode RespReader.readReply}. */
export interface ReadReplyOptions {
  /**
   * Where a top-level bulk value of this length goes, when the caller has a place for it
   * (the reply is then that array).
   */
  into?: (length: number) => Uint8Array | undefined;
  /** Told each bulk value's length as soon as it is known (a deadline allows for it). */
  onBulkLength?: (length: number) => void;
}

/** Parses RESP2 replies from a stream of bytes. */
export class RespReader {
  #read: ReadInto;
  #buffer = new Uint8Array(RESP_BUFFER_BYTES);
  #start = 0;
  #end = 0;

  /**
   * Creates a parser.
   *
   * @param read Reads the next bytes.
   */
  constructor(read: ReadInto) {
    this.#read = read;
  }

  /**
   * Reads one reply. An error reply is returned, as the typed error
   * {@linkcode errorFromReply} gives, not thrown: the stream goes on after it.
   *
   * @param options Where a bulk value may go, and who is told its length.
   * @returns The reply, or the error it stands for.
   * @throws {RespProtocolError} If the reply does not follow RESP2.
   * @throws {RemoteUnavailableError} If the stream ends inside a reply.
   */
  async readReply(options: ReadReplyOptions = {}): Promise<RedisReply | Error> {
    return await this.#readReply(options, false);
  }

  async #readReply(options: ReadReplyOptions, nested: boolean): Promise<RedisReply | Error> {
    const line = await this.#readLine();
    const type = line[0];
    const rest = line.slice(1);
    switch (type) {
      case "+":
        return encoder.encode(rest);
      case "-":
        return errorFromReply(rest);
      case ":":
        return integer(rest, line);
      case "$": {
        const length = integer(rest, line);
        if (length < 0) return null;
        options.onBulkLength?.(length);
        const into = nested ? undefined : options.into?.(length);
        return await this.#readBulk(length, into?.length === length ? into : undefined);
      }
      case "*": {
        const count = integer(rest, line);
        if (count < 0) return null;
        const items: RedisReply[] = [];
        for (let i = 0; i < count; i++) {
          const item = await this.#readReply(options, true);
          // Only transactions nest errors in arrays, and this program sends none.
          if (item instanceof Error) {
            throw new RespProtocolError("Redis sent an error inside an array");
          }
          items.push(item);
        }
        return items;
      }
      default:
        throw new RespProtocolError(
          `Unexpected reply from Redis: ${JSON.stringify(line.slice(0, 40))}`,
        );
    }
  }

  /** Reads a bulk value of `length` bytes and its CRLF. */
  async #readBulk(length: number, into: Uint8Array | undefined): Promise<Uint8Array> {
    const value = into ?? new Uint8Array(length);
    const buffered = Math.min(length, this.#end - this.#start);
    value.set(this.#buffer.subarray(this.#start, this.#start + buffered));
    this.#start += buffered;
    let have = buffered;
    while (have < length) {
      // Large values are read straight into their destination.
      const count = await this.#read(value.subarray(have));
      if (count === null) throw closedInReply();
      have += count;
    }
    if ((await this.#readLine()) !== "") {
      throw new RespProtocolError("A bulk value from Redis is longer than announced");
    }
    return value;
  }

  /** Reads up to the next CRLF; returns the text before it. */
  async #readLine(): Promise<string> {
    for (;;) {
      const end = this.#buffer.subarray(this.#start, this.#end).indexOf(CR);
      if (end >= 0 && this.#start + end + 1 < this.#end) {
        if (this.#buffer[this.#start + end + 1] !== 0x0a) {
          throw new RespProtocolError("A reply line from Redis does not end in CRLF");
        }
        const line = decoder.decode(this.#buffer.subarray(this.#start, this.#start + end));
        this.#start += end + 2;
        return line;
      }
      // Keep what is buffered at the front, and read more after it.
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
      if (this.#end === this.#buffer.length) {
        throw new RespProtocolError("A reply line from Redis is too long");
      }
      const count = await this.#read(this.#buffer.subarray(this.#end));
      if (count === null) throw closedInReply();
      this.#end += count;
    }
  }
}

function integer(text: string, line: string): number {
  if (!INTEGER.test(text)) {
    throw new RespProtocolError(
      `Unexpected reply from Redis: ${JSON.stringify(line.slice(0, 40))}`,
    );
  }
  return Number(text);
}

function closedInReply(): StreamEndedError {
  return new StreamEndedError("Redis closed the connection");
}
