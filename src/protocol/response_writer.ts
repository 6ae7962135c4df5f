/**
 * Writes protocol responses. Responses finished in the same turn of the event loop go
 * out together in one write: one write per line would cost a system call each, and the
 * go command waits on every one of them.
 *
 * @module
 */

/** Where response bytes go. A promise result is awaited before the next write. */
export type ByteSink = (bytes: Uint8Array) => void | Promise<void>;

/** Queues response lines and writes them in batches, in order. */
export class ResponseWriter {
  #sink: ByteSink;
  #pending: string[] = [];
  #scheduled = false;
  #busy: Promise<void> | undefined;
  #encoder = new TextEncoder();
  #failure: unknown;

  /**
   * Creates a writer.
   *
   * @param sink Receives batches of complete lines.
   */
  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  /**
   * Queues one line (with its newline); it is written at the end of the current turn
   * of the event loop, together with any other lines queued by then.
   *
   * @param line A complete response line.
   */
  send(line: string): void {
    this.#pending.push(line);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#drain();
    });
  }

  /** Whether every queued line has been written, and no write is in progress. */
  get idle(): boolean {
    return this.#pending.length === 0 && this.#busy === undefined;
  }

  /**
   * Writes the queued lines now, if the sink can take them synchronously.
   *
   * @returns Whether everything queued has been written.
   */
  writeNow(): boolean {
    this.#drain();
    return this.idle;
  }

  /**
   * Waits until every queued line has been written.
   *
   * @throws The sink's error, if a write failed.
   */
  async flush(): Promise<void> {
    this.#drain();
    while (this.#busy !== undefined) {
      await this.#busy;
      this.#drain();
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  #drain(): void {
    while (this.#pending.length > 0 && this.#busy === undefined && this.#failure === undefined) {
      const text = this.#pending.length === 1 ? this.#pending[0]! : this.#pending.join("");
      this.#pending = [];
      let result: void | Promise<void>;
      try {
        result = this.#sink(this.#encoder.encode(text));
      } catch (error) {
        this.#failure = error;
        return;
      }
      if (result instanceof Promise) {
        this.#busy = result.then(
          () => {
            this.#busy = undefined;
            this.#drain();
          },
          (error) => {
            this.#failure ??= error;
            this.#busy = undefined;
          },
        );
      }
    }
  }
}
