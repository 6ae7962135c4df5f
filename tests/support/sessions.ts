/**
 * Driving the protocol engine in-process: a go command's requests written as the go
 * command frames them, served from memory, with the responses parsed back.
 *
 * @module
 */

import { serve } from "../../src/protocol/serve.ts";
import { byteSourceFromStream } from "../../src/protocol/byte_source.ts";
import type { ServeMetrics } from "../../src/protocol/serve_metrics.ts";
import type { CacheStore } from "../../src/store.ts";
import { Logger } from "../../src/util/log.ts";
import { hexIdToBase64 } from "../../src/util/ids.ts";

/** One request of a session, in this program's terms (hex IDs). */
export type SessionRequest =
  | { command: "get"; actionId: string }
  | { command: "put"; actionId: string; outputId: string; body: Uint8Array };

/** The bytes of one request, numbered `number`, as the go command frames it. */
function requestText(request: SessionRequest, number: number): string {
  const head = `"ID":${number},"Command":"${request.command}","ActionID":"${
    hexIdToBase64(request.actionId)
  }"`;
  if (request.command === "get") return `{${head}}\n\n`;
  const size = request.body.length;
  const body = size === 0 ? "" : `"${request.body.toBase64()}"\n`;
  return `{${head},"OutputID":"${hexIdToBase64(request.outputId)}","BodySize":${size}}\n\n${body}`;
}

/**
 * The bytes the go command would write for these requests, then `close`.
 *
 * @param requests The requests, numbered from 1 in order.
 * @returns The request stream.
 */
export function sessionInput(requests: readonly SessionRequest[]): string {
  const lines = requests.map((request, i) => {
    const head = `"ID":${i + 1},"Command":"${request.command}","ActionID":"${
      hexIdToBase64(request.actionId)
    }"`;
    if (request.command === "get") return `{${head}}\n\n`;
    const size = request.body.length;
    const body = size === 0 ? "" : `"${request.body.toBase64()}"\n`;
    return `{${head},"OutputID":"${
      hexIdToBase64(request.outputId)
    }","BodySize":${size}}\n\n${body}`;
  });
  return lines.join("") + `{"ID":${requests.length + 1},"Command":"close"}\n\n`;
}

/**
 * Serves a session in-process and parses every response.
 *
 * @param store The store to serve from.
 * @param input The request stream.
 * @param options The engine's counters, and where its log lines go.
 * @returns The responses, the handshake first, and how the session ended.
 */
export async function runSession(
  store: CacheStore | (() => Promise<CacheStore>),
  input: string,
  options: { metrics?: ServeMetrics; logLines?: string[] } = {},
): Promise<{ responses: Record<string, unknown>[]; end: string }> {
  const written: string[] = [];
  const end = await serve(store, {
    input: byteSourceFromStream(ReadableStream.from([new TextEncoder().encode(input)])),
    output: (bytes) => void written.push(new TextDecoder().decode(bytes)),
    logger: new Logger((line) => options.logLines?.push(line)),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  });
  const responses = written.join("").split("\n").filter((line) => line !== "").map((line) =>
    JSON.parse(line)
  );
  return { responses, end };
}

/**
 * Serves a session in-process as the go command drives one: each request is sent once
 * the previous one is answered (as a compile's `stdout` is asked for after the
 * compile's hit), then `close`.
 *
 * @param store The store to serve from.
 * @param requests The requests, in order.
 * @param options The engine's counters.
 * @returns The responses, the handshake first.
 */
export async function runSessionInTurn(
  store: CacheStore,
  requests: readonly SessionRequest[],
  options: { metrics?: ServeMetrics } = {},
): Promise<Record<string, unknown>[]> {
  const responses: Record<string, unknown>[] = [];
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const input = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  let partial = "";
  const sendNext = () => {
    const answered = responses.length - 1; // the handshake, then one answer per request
    if (answered <= requests.length) {
      controller.enqueue(
        encoder.encode(
          answered < requests.length
            ? requestText(requests[answered]!, answered + 1)
            : `{"ID":${answered + 1},"Command":"close"}\n\n`,
        ),
      );
    } else {
      controller.close();
    }
  };
  await serve(store, {
    input: byteSourceFromStream(input),
    output: (bytes) => {
      partial += new TextDecoder().decode(bytes);
      const lines = partial.split("\n");
      partial = lines.pop()!;
      for (const line of lines.filter((line) => line !== "")) {
        responses.push(JSON.parse(line));
        sendNext();
      }
    },
    logger: new Logger(() => {}),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  });
  return responses;
}
