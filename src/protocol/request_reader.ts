/**
 * Byte-level framing of the go command's request stream: request objects on their own
 * lines (each followed by a blank line) and, after a `put` with a body, one line holding
 * the body as a quoted base64 string. Bodies can be hundreds of MiB, so they are decoded
 * incrementally and handed on in pieces; nothing here builds a string by repeated
 * concatenation.
 *
 * @module
 */

import type { ByteSource } from "./byte_source.ts";
import { concatBytes } from "../util/bytes.ts";

/** The longest request line accepted; real ones are about 200 bytes. */
export const MAX_REQUEST_LINE_BYTES = 1 << 20;

/** How much base64 text is gathered before one decode: large enough to amortise calls. */
const BODY_DECODE_BATCH_BYTES = 1 << 20;

/** The read buffer's size: the most a pipe hands over in one read. */
const READ_BUFFER_BYTES = 1 << 16;

const NEWLINE = 0x0a;
const QUOTE = 0x22;

/** The outcome of reading one body string. */
export interface BodyResult {
  /** How many bytes the base64 text decoded to. */
  decodedSize: number;
  /** The first error thrown by the chunk consumer; the body was still read to its end. */
  consumerError?: unknown;
}

/** Receives decoded body bytes in order. Each array is new and may be kept. */
export type BodyConsumer = (chunk: Uint8Array) => void | Promise<void>;

/**
 * Tells the reader whether it may block the thread for its next read. Called just
 * before each read; a question only, with no side effect.
 */
export type BlockingPolicy = () => boolean;

/** Reads request lines and body strings from a {@linkcode ByteSource}. */
export class RequestReader {
  #source: ByteSource;
  #mayBlock: BlockingPolicy;
  #buffer = new Uint8Array(READ_BUFFER_BYTES);
  #end = 0;
  #pos = 0;
  #decoder = new TextDecoder();

  /**
   * Creates a reader.
   *
   * @param source The raw bytes, usually `Deno.stdin`.
   * @param mayBlock Whether a blocking read is safe right now; by default never.
   */
  constructor(source: ByteSource, mayBlock: BlockingPolicy = () => false) {
    this.#source = source;
    this.#mayBlock = mayBlock;
  }

  /**
   * Reads the next non-blank line.
   *
   * @returns The line without its newline, or `undefined` at the end of the stream.
   * @throws {SyntaxError} If a line exceeds {@linkcode MAX_REQUEST_LINE_BYTES}.
   */
  async readLine(): Promise<string | undefined> {
    if (!(await this.#skipWhitespace())) return undefined;
    const buffer = this.#buffer;
    const end = buffer.subarray(this.#pos, this.#end).indexOf(NEWLINE);
    if (end >= 0) {
      // The common case: the whole line is in the buffer.
      const line = this.#decoder.decode(buffer.subarray(this.#pos, this.#pos + end));
      this.#pos += end + 1;
      return line;
    }
    const parts: Uint8Array[] = [];
    let length = 0;
    for (;;) {
      const available = this.#buffer.subarray(this.#pos, this.#end);
      const newline = available.indexOf(NEWLINE);
      const piece = newline >= 0 ? available.subarray(0, newline) : available;
      parts.push(piece.slice()); // the buffer is reused by the next read
      length += piece.length;
      if (length > MAX_REQUEST_LINE_BYTES) {
        throw new SyntaxError(`Request line longer than ${MAX_REQUEST_LINE_BYTES} bytes`);
      }
      if (newline >= 0) {
        this.#pos += newline + 1;
        break;
      }
      this.#pos = this.#end;
      if (!(await this.#fill())) break;
    }
    return this.#decoder.decode(concatBytes(parts, length));
  }

  /**
   * Reads one body string (`"<base64>"`) and passes its decoded bytes to `consume`.
   *
   * @param what Names the request in error messages, e.g. `request 7`.
   * @param consume Receives the decoded bytes in order; awaited, so it can apply
   * back-pressure. If it throws, the rest of the body is still read (and dropped) so
   * that the stream stays in step.
   * @returns The decoded size and the consumer's first error, if any.
   * @throws {SyntaxError} If the stream ends inside the body, or the body is not a
   * quoted base64 string: the stream cannot be followed any further.
   */
  async readBody(what: string, consume: BodyConsumer): Promise<BodyResult> {
    if (!(await this.#skipWhitespace()) || this.#buffer[this.#pos] !== QUOTE) {
      throw new SyntaxError(`Expected the body string of ${what}`);
    }
    this.#pos++;
    const result: BodyResult = { decodedSize: 0 };
    let pending: Uint8Array[] = [];
    let pendingLength = 0;
    const deliver = async (final: boolean): Promise<void> => {
      const text = concatBytes(pending, pendingLength);
      // Only whole 4-character groups can be decoded before the end of the body.
      const usable = final ? text.length : text.length - (text.length % 4);
      const rest = text.subarray(usable);
      pending = rest.length > 0 ? [rest] : [];
      pendingLength = rest.length;
      if (usable === 0) return;
      let bytes: Uint8Array;
      try {
        bytes = Uint8Array.fromBase64(this.#decoder.decode(text.subarray(0, usable)));
      } catch {
        throw new SyntaxError(`The body of ${what} is not valid base64`);
      }
      result.decodedSize += bytes.length;
      if (result.consumerError !== undefined) return;
      try {
        await consume(bytes);
      } catch (error) {
        result.consumerError = error;
      }
    };
    for (;;) {
      if (this.#pos >= this.#end && !(await this.#fill())) {
        throw new SyntaxError(`The input ended inside the body of ${what}`);
      }
      const available = this.#buffer.subarray(this.#pos, this.#end);
      const quote = available.indexOf(QUOTE);
      const piece = quote >= 0 ? available.subarray(0, quote) : available;
      if (piece.length > 0) {
        pending.push(piece.slice()); // the buffer is reused by the next read
        pendingLength += piece.length;
      }
      this.#pos += quote >= 0 ? quote + 1 : available.length;
      if (quote >= 0) {
        await deliver(true);
        return result;
      }
      if (pendingLength >= BODY_DECODE_BATCH_BYTES) await deliver(false);
    }
  }

  /** Moves past whitespace; returns false at the end of the stream. */
  async #skipWhitespace(): Promise<boolean> {
    for (;;) {
      const buffer = this.#buffer;
      let pos = this.#pos;
      while (pos < this.#end && isWhitespace(buffer[pos]!)) pos++;
      this.#pos = pos;
      if (pos < this.#end) return true;
      if (!(await this.#fill())) return false;
    }
  }

  /** Refills the exhausted buffer; returns false at the end of the input. */
  async #fill(): Promise<boolean> {
    for (;;) {
      const count = this.#source.readSync !== undefined && this.#mayBlock()
        ? this.#source.readSync(this.#buffer)
        : await this.#source.read(this.#buffer);
      this.#pos = 0;
      this.#end = count ?? 0;
      if (count === null) return false;
      if (count > 0) return true;
    }
  }
}

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}
