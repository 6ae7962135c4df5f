/**
 * The protocol engine: reads the go command's requests, serves them concurrently from a
 * {@linkcode CacheStore}, and answers each ID exactly once, in whatever order the work
 * finishes. It knows nothing of where entries are stored beyond the store interface.
 *
 * @module
 */

import type { CacheStore, Hit, PutWriter } from "../store.ts";
import type { ByteSource } from "./byte_source.ts";
import { RequestReader } from "./request_reader.ts";
import { type ByteSink, ResponseWriter } from "./response_writer.ts";
import { decodeRequest, encodeResponse, HANDSHAKE_LINE } from "./wire.ts";
import { errorKind, messageOf } from "../errors.ts";
import type { Request, Response } from "./wire.ts";
import { Logger } from "../util/log.ts";
import { ServeMetrics } from "./serve_metrics.ts";
import { describe, requestLine, responseLine } from "./request_log.ts";
import { loadSha256 } from "../util/sha256.ts";

/** SHA-256 of the empty string: the OutputID of every empty body. */
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Memory is sampled every this many body bytes: big bodies are where it peaks. */
const RSS_SAMPLE_BYTES = 8 << 20;

/** Misses remembered for the compute-time estimate; a build has far fewer in flight. */
const MAX_REMEMBERED_MISSES = 100_000;

/** How many requests may be in progress at once before reading pauses. */
export const DEFAULT_MAX_IN_FLIGHT = 64;

/** Opens a store lazily, so that the handshake can be written first. */
export type StoreOpener = () => Promise<CacheStore>;

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  /** The go command's requests (our stdin). */
  input: ByteSource;
  /** Where responses go (our stdout). */
  output: ByteSink;
  /** Diagnostics; by default, lines on stderr. */
  logger?: Logger;
  /** Counters to update; pass one in to read them afterwards. */
  metrics?: ServeMetrics;
  /**
   * The most requests served at once; reading pauses beyond it.
   *
   * @default {64}
   */
  maxInFlight?: number;
  /**
   * Log one line per request received.
   *
   * @default {false}
   */
  logRequests?: boolean;
  /**
   * Log one line per response sent.
   *
   * @default {false}
   */
  logResponses?: boolean;
}

/** How a session ended: a `close` request, or the end of the input without one. */
export type ServeEnd = "close" | "eof";

/**
 * Serves one go command's session.
 *
 * The handshake is written before anything else happens, the store included: every go
 * command waits on it. A `close` request, or the end of the input, waits for the work in
 * progress, closes the store (which finishes its background work), answers the `close`,
 * and ends the session.
 *
 * @example Drive a session from memory, as the tests do
 * ```ts
 * import assert from "node:assert/strict";
 * import { byteSourceFromStream, DiskStore, serve } from "../../mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const lines: string[] = [];
 * const end = await serve(() => DiskStore.open(dir), {
 *   input: byteSourceFromStream(ReadableStream.from([
 *     new TextEncoder().encode('{"ID":1,"Command":"close"}\n'),
 *   ])),
 *   output: (bytes) => void lines.push(new TextDecoder().decode(bytes)),
 * });
 * assert.equal(end, "close");
 * assert.equal(lines.join(""), '{"ID":0,"KnownCommands":["get","put","close"]}\n{"ID":1}\n');
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param store The store, or a function that opens it after the handshake is written.
 * @param options The streams and what to report.
 * @returns How the session ended.
 * @throws {SyntaxError} If the input cannot be decoded any further (the message names
 * the request); also whatever opening the store throws.
 */
export async function serve(
  store: CacheStore | StoreOpener,
  options: ServeOptions,
): Promise<ServeEnd> {
  const writer = new ResponseWriter(options.output);
  writer.send(HANDSHAKE_LINE);
  await writer.flush();
  const session = new Session(typeof store === "function" ? await store() : store, writer, options);
  return await session.run(options.input);
}

/** One go command's session: its requests, served concurrently, and their answers. */
class Session {
  #store: CacheStore;
  #writer: ResponseWriter;
  #logger: Logger;
  #metrics: ServeMetrics;
  #maxInFlight: number;
  #logRequests: boolean;
  #logResponses: boolean;
  #inFlight = new Set<Promise<void>>();
  /** When each recent miss happened: a put of the same action then took that long to make. */
  #missedAt = new Map<string, number>();
  #slotFreed: (() => void) | undefined;
  /** Whether an answer was sent since the store last did its deferred work. */
  #answeredSinceSettled = false;

  constructor(store: CacheStore, writer: ResponseWriter, options: ServeOptions) {
    this.#store = store;
    this.#writer = writer;
    this.#logger = options.logger ?? new Logger();
    this.#metrics = options.metrics ?? new ServeMetrics();
    this.#maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.#logRequests = options.logRequests ?? false;
    this.#logResponses = options.logResponses ?? false;
  }

  async run(input: ByteSource): Promise<ServeEnd> {
    const reader = new RequestReader(input, () => this.#mayBlock());
    for (;;) {
      this.#settle();
      const line = await reader.readLine();
      if (line === undefined) {
        await this.#finish();
        await this.#writer.flush();
        return "eof";
      }
      const request = decodeRequest(line);
      if (this.#logRequests) this.#logger.info(requestLine(request));
      if (request.command === "close") {
        await this.#finish();
        this.#respond(request, performance.now(), { id: request.id });
        await this.#writer.flush();
        return "close";
      }
      while (this.#inFlight.size >= this.#maxInFlight) {
        await new Promise<void>((resolve) => this.#slotFreed = resolve);
      }
      const started = performance.now();
      if (request.command === "put") {
        // The body follows on the input, so it is read here, before the next request.
        await this.#put(request, reader, started);
      } else {
        this.#get(request, started);
      }
    }
  }

  /**
   * Whether blocking on the input is safe: only when nothing else needs the event loop,
   * that is no request in progress, no response waiting to be written, and no work of
   * the store's own. A question, with no side effect: the engine writes and does the
   * store's deferred work itself, before it reads (`#settle`).
   */
  #mayBlock(): boolean {
    return this.#inFlight.size === 0 && this.#writer.idle &&
      !(this.#store.background?.busy() ?? false);
  }

  /**
   * Writes the answers that are ready and, when every request is answered and its
   * answer written, lets the store do what it deferred to answer sooner, while the go
   * command works on the answers.
   */
  #settle(): void {
    if (!this.#answeredSinceSettled || this.#inFlight.size !== 0 || !this.#writer.writeNow()) {
      return;
    }
    this.#answeredSinceSettled = false;
    this.#store.background?.runDeferred();
  }

  /** Waits for the requests in progress, then lets the store finish its own work. */
  async #finish(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled(this.#inFlight);
    await this.#store.close();
  }

  #track(task: Promise<void>): void {
    this.#inFlight.add(task);
    task.finally(() => {
      this.#inFlight.delete(task);
      this.#settle();
      const resolve = this.#slotFreed;
      this.#slotFreed = undefined;
      resolve?.();
    });
  }

  #get(request: Request, started: number): void {
    this.#metrics.gets++;
    if (request.invalid !== undefined || request.actionId === undefined) {
      this.#metrics.getErrors++;
      this.#rejectInvalid(request, started);
      return;
    }
    let result: Hit | undefined | Promise<Hit | undefined>;
    try {
      result = this.#store.get(request.actionId);
    } catch (error) {
      this.#failGet(request, started, error);
      return;
    }
    if (result instanceof Promise) {
      this.#track(result.then(
        (hit) => this.#answerGet(request, started, hit),
        (error) => this.#failGet(request, started, error),
      ));
    } else {
      this.#answerGet(request, started, result);
    }
  }

  #answerGet(request: Request, started: number, hit: Hit | undefined): void {
    if (hit === undefined) {
      // A miss is followed by a put, which needs the hash module: load it now, while the
      // go command compiles. A session of hits only (a warm build) never loads it, which
      // saves it the module's load.
      if (this.#metrics.misses === 0) loadSha256().catch(() => {});
      this.#metrics.misses++;
      if (request.actionId !== undefined) {
        if (this.#missedAt.size >= MAX_REMEMBERED_MISSES) this.#missedAt.clear();
        this.#missedAt.set(request.actionId, started);
      }
      this.#respond(request, started, { id: request.id, miss: true });
    } else {
      this.#metrics.compileMillisReplaced += hit.computeMillis ?? 0;
      this.#metrics.hits++;
      if (hit.source === "remote") this.#metrics.remoteHits++;
      else this.#metrics.localHits++;
      this.#metrics.bytesRead += hit.size;
      this.#respond(request, started, {
        id: request.id,
        outputId: hit.outputId,
        size: hit.size,
        timeNanos: hit.timeNanos,
        diskPath: hit.diskPath,
      }, hit.source ?? "local");
    }
    this.#metrics.getMillis += performance.now() - started;
  }

  #failGet(request: Request, started: number, error: unknown): void {
    this.#metrics.getErrors++;
    this.#fail(request, started, error);
    this.#metrics.getMillis += performance.now() - started;
  }

  /**
   * Reads a put's body into the store and checks it. The commit that follows runs on
   * its own, so the next request can be read meanwhile.
   */
  async #put(request: Request, reader: RequestReader, started: number): Promise<void> {
    this.#metrics.puts++;
    const { actionId, outputId, bodySize: size } = request;
    let writer: PutWriter | undefined;
    let problem: string | undefined = request.invalid;
    if (problem === undefined && actionId !== undefined && outputId !== undefined) {
      const missedAt = this.#missedAt.get(actionId);
      this.#missedAt.delete(actionId);
      try {
        writer = this.#store.startPut({
          actionId,
          outputId,
          size,
          ...(missedAt === undefined ? {} : { computeMillis: started - missedAt }),
        });
      } catch (error) {
        problem = `cannot store the body: ${messageOf(error)}`;
      }
    }
    let digest = EMPTY_SHA256;
    if (size > 0) {
      const hash = (await loadSha256())();
      let sinceSample = 0;
      const body = await reader.readBody(`request ${request.id}`, (chunk) => {
        hash.update(chunk);
        sinceSample += chunk.length;
        if (sinceSample >= RSS_SAMPLE_BYTES) {
          sinceSample = 0;
          this.#metrics.sampleRss();
        }
        return writer?.write(chunk);
      });
      if (size >= RSS_SAMPLE_BYTES) this.#metrics.sampleRss();
      digest = hash.digestHex();
      this.#metrics.bytesWritten += body.decodedSize;
      if (body.decodedSize !== size) {
        problem ??= `body is ${body.decodedSize} bytes, but BodySize is ${size}`;
      } else if (body.consumerError !== undefined) {
        problem ??= `cannot store the body: ${messageOf(body.consumerError)}`;
      }
    }
    if (problem === undefined && digest !== outputId) {
      problem = `body's SHA-256 is ${digest}, but OutputID is ${outputId}`;
    }
    if (writer === undefined || problem !== undefined) {
      await writer?.abort();
      this.#metrics.putErrors++;
      this.#rejectInvalid({ ...request, invalid: problem ?? "invalid request" }, started);
      return;
    }
    let committed: Hit | Promise<Hit>;
    try {
      committed = writer.commit();
    } catch (error) {
      this.#track(this.#failPut(request, writer, started, error));
      return;
    }
    if (committed instanceof Promise) {
      this.#track(committed.then(
        (hit) => this.#answerPut(request, started, hit),
        (error) => this.#failPut(request, writer, started, error),
      ));
    } else {
      this.#answerPut(request, started, committed);
    }
  }

  #answerPut(request: Request, started: number, hit: Hit): void {
    this.#respond(request, started, { id: request.id, diskPath: hit.diskPath });
    this.#metrics.putMillis += performance.now() - started;
  }

  async #failPut(
    request: Request,
    writer: PutWriter,
    started: number,
    error: unknown,
  ): Promise<void> {
    this.#metrics.putErrors++;
    await writer.abort().catch(() => {});
    this.#fail(request, started, error);
    this.#metrics.putMillis += performance.now() - started;
  }

  /** Answers a malformed request with an error, and says so on stderr. */
  #rejectInvalid(request: Request, started: number): void {
    const message = `${describe(request)}: ${request.invalid}`;
    this.#logger.info(`rejected ${message}`);
    this.#respond(request, started, { id: request.id, err: message });
  }

  /**
   * Answers a request whose store operation failed, with one warning per kind of failure
   * (its command and its error's class, never its message, which names a path).
   */
  #fail(request: Request, started: number, error: unknown): void {
    const reason = messageOf(error);
    this.#logger.warnOnce(
      `${request.command}: ${errorKind(error)}`,
      `${describe(request)} failed: ${reason}` +
        " (further failures of this kind are answered as errors without a warning)",
    );
    this.#respond(request, started, {
      id: request.id,
      err: `${request.command} failed: ${reason}`,
    });
  }

  /** Sends a response; `source` names the tier that answered a hit, for the log. */
  #respond(request: Request, started: number, response: Response, source = ""): void {
    this.#writer.send(encodeResponse(response));
    this.#answeredSinceSettled = true;
    if (this.#logResponses) {
      this.#logger.info(responseLine(request, response, performance.now() - started, source));
    }
  }
}
