/**
 * The GOCACHEPROG wire format: what the go command writes to our stdin and what we
 * write back. The authoritative definition is the go command's
 * `cmd/go/internal/cacheprog` package; JSON keys are its Go field names, IDs are
 * standard base64 on the wire and lowercase hex everywhere inside this program.
 *
 * @module
 */

import { base64IdToHex, hexIdToBase64 } from "../util/ids.ts";
import { messageOf } from "../errors.ts";

/** The commands this program announces in its handshake. */
export const KNOWN_COMMANDS: readonly string[] = ["get", "put", "close"];

/** One decoded request. */
export interface Request {
  /** The request ID, echoed in the response. */
  id: number;
  /** `get`, `put`, `close`, or something this program does not know. */
  command: string;
  /** The ActionID in hex, for `get` and `put`. */
  actionId?: string;
  /** The OutputID in hex, for `put` (from `OutputID`, or the Go 1.21-1.23 `ObjectID`). */
  outputId?: string;
  /** The number of body bytes that follow a `put`; 0 when there is no body line. */
  bodySize: number;
  /**
   * Why this request cannot be served, when it is well framed but wrong (a bad ID, an
   * unknown command). It is answered with `Err`; the stream stays usable.
   */
  invalid?: string;
}

/** One response, in this program's terms; {@linkcode encodeResponse} writes it. */
export interface Response {
  /** The ID of the request this answers (0 for the handshake). */
  id: number;
  /** An error; the go command treats it as a miss on `get` and as a failure on `put`. */
  err?: string;
  /** The handshake's list of commands. */
  knownCommands?: readonly string[];
  /** A cache miss. */
  miss?: boolean;
  /** The OutputID in hex, on a hit. */
  outputId?: string;
  /** The body size in bytes, on a hit. */
  size?: number;
  /** When the entry was put, in Unix nanoseconds, on a hit. */
  timeNanos?: bigint;
  /** The absolute path of the body's file, on a hit and after a put. */
  diskPath?: string;
}

/**
 * Decodes one request object.
 *
 * @param text One JSON object, as read from one line.
 * @returns The request; see {@linkcode Request.invalid} for requests that must be
 * answered with an error.
 * @throws {SyntaxError} If the text is not a request object with a usable ID and body
 * size: the stream cannot be followed any further.
 */
export function decodeRequest(text: string): Request {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`Cannot decode request ${quoteExcerpt(text)}: ${messageOf(error)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SyntaxError(`Cannot decode request ${quoteExcerpt(text)}: not a JSON object`);
  }
  const fields = value as Record<string, unknown>;
  const id = fields.ID;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
    throw new SyntaxError(`Cannot decode request ${quoteExcerpt(text)}: no valid "ID"`);
  }
  const bodySize = fields.BodySize ?? 0;
  if (typeof bodySize !== "number" || !Number.isSafeInteger(bodySize) || bodySize < 0) {
    throw new SyntaxError(`Cannot decode request ${id}: invalid "BodySize" ${String(bodySize)}`);
  }
  const command = fields.Command;
  const request: Request = { id, command: typeof command === "string" ? command : "", bodySize };
  if (command === "close") return request;
  if (command !== "get" && command !== "put") {
    request.invalid = `unknown command ${JSON.stringify(command ?? null)}`;
    return request;
  }
  const actionId = typeof fields.ActionID === "string" ? base64IdToHex(fields.ActionID) : undefined;
  if (actionId === undefined) {
    request.invalid = `invalid ActionID ${JSON.stringify(fields.ActionID ?? null)}`;
    return request;
  }
  request.actionId = actionId;
  if (command === "put") {
    // Go 1.21-1.23 name the output hash ObjectID; Go 1.24 experiment builds send both.
    const wireOutputId = fields.OutputID ?? fields.ObjectID;
    const outputId = typeof wireOutputId === "string" ? base64IdToHex(wireOutputId) : undefined;
    if (outputId === undefined) {
      request.invalid = `invalid OutputID ${JSON.stringify(wireOutputId ?? null)}`;
    } else {
      request.outputId = outputId;
    }
  } else if (bodySize !== 0) {
    request.invalid = `a get request cannot carry a body`;
  }
  return request;
}

/**
 * Encodes one response as a single JSON line, with the exact field names and encodings
 * the go command's decoder expects, and zero values left out.
 *
 * @param response The response.
 * @returns The JSON text followed by a newline.
 */
export function encodeResponse(response: Response): string {
  let json = `{"ID":${response.id}`;
  if (response.err !== undefined && response.err !== "") {
    json += `,"Err":${JSON.stringify(response.err)}`;
  }
  if (response.knownCommands !== undefined && response.knownCommands.length > 0) {
    json += `,"KnownCommands":${JSON.stringify(response.knownCommands)}`;
  }
  if (response.miss === true) json += `,"Miss":true`;
  if (response.outputId !== undefined) json += `,"OutputID":"${hexIdToBase64(response.outputId)}"`;
  if (response.size !== undefined && response.size !== 0) json += `,"Size":${response.size}`;
  if (response.timeNanos !== undefined) {
    json += `,"Time":"${formatRfc3339Nanos(response.timeNanos)}"`;
  }
  if (response.diskPath !== undefined && response.diskPath !== "") {
    json += `,"DiskPath":${JSON.stringify(response.diskPath)}`;
  }
  return json + "}\n";
}

/** The first line this program writes: the commands it supports. */
export const HANDSHAKE_LINE: string = encodeResponse({ id: 0, knownCommands: KNOWN_COMMANDS });

const NANOS_PER_SECOND = 1_000_000_000n;

/**
 * Formats a time as RFC 3339 in UTC with all nine fractional digits. Full precision
 * matters: `go clean -testcache` compares put times with a nanosecond timestamp.
 *
 * @param unixNanos Nanoseconds since the Unix epoch.
 * @returns For example `2025-01-02T03:04:05.123456789Z`.
 */
export function formatRfc3339Nanos(unixNanos: bigint): string {
  let seconds = unixNanos / NANOS_PER_SECOND;
  let nanos = unixNanos % NANOS_PER_SECOND;
  if (nanos < 0n) {
    seconds -= 1n;
    nanos += NANOS_PER_SECOND;
  }
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${whole}.${nanos.toString().padStart(9, "0")}Z`;
}

function quoteExcerpt(text: string): string {
  return JSON.stringify(text.length > 120 ? text.slice(0, 120) + "..." : text);
}
