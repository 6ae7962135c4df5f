/**
 * A stand-in for the go command that speaks the protocol over real pipes, and IDs in the wire's form.
 *
 * @module
 */

import { sha256HexOffThread } from "../../src/util/sha256.ts";

/** A decoded response, with the wire's field names. */
export interface WireResponse {
  /** The request's ID. */
  ID?: number;
  /** An error. */
  Err?: string;
  /** The handshake's commands. */
  KnownCommands?: string[];
  /** A miss. */
  Miss?: boolean;
  /** The OutputID, base64. */
  OutputID?: string;
  /** The size. */
  Size?: number;
  /** The put time, RFC 3339. */
  Time?: string;
  /** The output file. */
  DiskPath?: string;
}

/**
 * A stand-in for the go command: starts the program with piped stdin and stdout, reads
 * its handshake, writes requests exactly as the go command frames them, and collects
 * every response line (checking that each is valid JSON).
 */
export class FakeGoClient implements AsyncDisposable {
  /** The program's process. */
  readonly process: Deno.ChildProcess;
  /** Every response received, in order, the handshake first. */
  readonly responses: WireResponse[] = [];
  /** Everything the program wrote to stdout that was not a JSON object line. */
  readonly invalidLines: string[] = [];
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #waiters = new Map<
    number,
    { resolve: (response: WireResponse) => void; reject: (error: Error) => void }
  >();
  #stdoutDone: Promise<void>;
  #stderr: Promise<string>;
  #encoder = new TextEncoder();

  private constructor(process: Deno.ChildProcess) {
    this.process = process;
    this.#writer = process.stdin.getWriter();
    this.#stdoutDone = this.#readResponses();
    this.#stderr = new Response(process.stderr).text();
  }

  /**
   * Starts the program and waits for its handshake.
   *
   * @param argv The program's command line.
   * @param env Extra environment variables.
   * @returns The client.
   */
  static async start(
    argv: readonly string[],
    env: Record<string, string> = {},
  ): Promise<FakeGoClient> {
    const process = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env,
    }).spawn();
    const client = new FakeGoClient(process);
    try {
      await client.response(0);
    } catch (error) {
      await client[Symbol.asyncDispose]();
      throw error;
    }
    return client;
  }

  /**
   * Writes raw bytes to the program's stdin.
   *
   * @param data Text or bytes.
   */
  async writeRaw(data: string | Uint8Array): Promise<void> {
    await this.#writer.write(typeof data === "string" ? this.#encoder.encode(data) : data);
  }

  /**
   * Sends a request framed as the go command frames it: the JSON object, a newline, a
   * blank line, then for a body the quoted base64 line.
   *
   * @param request The request's wire fields.
   * @param body The body, for a put.
   */
  async send(request: Record<string, unknown>, body?: Uint8Array): Promise<void> {
    let text = JSON.stringify(request) + "\n\n";
    if (body !== undefined && body.length > 0) text += `"${body.toBase64()}"\n`;
    await this.writeRaw(text);
  }

  /**
   * Waits for the response to an ID.
   *
   * @param id The request ID.
   * @returns The response.
   */
  response(id: number): Promise<WireResponse> {
    const existing = this.responses.find((response) => (response.ID ?? 0) === id);
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve, reject) => this.#waiters.set(id, { resolve, reject }));
  }

  /**
   * Sends a request and waits for its answer.
   *
   * @param request The request's wire fields, with an `ID`.
   * @param body The body, for a put.
   * @returns The response.
   */
  async request(request: Record<string, unknown>, body?: Uint8Array): Promise<WireResponse> {
    const answer = this.response(request.ID as number);
    await this.send(request, body);
    return await answer;
  }

  /**
   * Closes stdin and waits for the program to exit.
   *
   * @returns Its exit status and stderr.
   */
  async finish(): Promise<{ code: number; stderr: string }> {
    await this.#writer.close().catch(() => {});
    const status = await this.process.status;
    await this.#stdoutDone;
    return { code: status.code, stderr: await this.#stderr };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.process.kill("SIGKILL");
    } catch {
      // already exited
    }
    await this.finish().catch(() => {});
  }

  async #readResponses(): Promise<void> {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of this.process.stdout) {
      const lines = (partial + decoder.decode(chunk, { stream: true })).split("\n");
      partial = lines.pop()!;
      for (const line of lines) this.#accept(line);
    }
    if (partial !== "") this.#accept(partial);
    // The program ended: whatever it has not answered, it never will.
    for (const [id, waiter] of this.#waiters) {
      waiter.reject(new Error(`The program ended without answering request ${id}`));
    }
    this.#waiters.clear();
  }

  #accept(line: string): void {
    let response: WireResponse;
    try {
      response = JSON.parse(line);
      if (typeof response !== "object" || response === null || Array.isArray(response)) {
        throw new Error();
      }
    } catch {
      this.invalidLines.push(line);
      return;
    }
    this.responses.push(response);
    const id = response.ID ?? 0;
    const waiter = this.#waiters.get(id)?.resolve;
    this.#waiters.delete(id);
    waiter?.(response);
  }
}

/**
 * The SHA-256 of bytes, in the wire's base64.
 *
 * @param data The bytes.
 * @returns Standard base64 of the digest.
 */
export async function sha256Base64(data: Uint8Array): Promise<string> {
  return Uint8Array.fromHex(await sha256HexOffThread(data)).toBase64();
}

/**
 * The SHA-256 of a string, in the wire's base64: a stand-in ActionID.
 *
 * @param text The text.
 * @returns Standard base64 of the digest.
 */
export function actionIdFor(text: string): Promise<string> {
  return sha256Base64(new TextEncoder().encode(text));
}
