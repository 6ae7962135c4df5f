/**
 * A put's body on its way into its output file, as the go command sends it: small
 * bodies gathered in memory and written with one call, larger ones streamed to a
 * temporary file so that memory stays bounded whatever the body's size. It writes the
 * output and nothing else: the store records the entry once the output is in place.
 *
 * @module
 */

import type { PutRequest } from "../store.ts";
import { concatBytes } from "../util/bytes.ts";
import { StreamedFile } from "./atomic_file.ts";
import { holdsOutput, writeOutputSync } from "./output_files.ts";

/**
 * Bodies up to this size are gathered in memory and written with one call; larger ones
 * are streamed to a temporary file.
 */
export const IN_MEMORY_BODY_LIMIT = 1 << 20;

/** Writes one put's body to its output file. */
export class OutputWriter {
  #path: string;
  #output: Pick<PutRequest, "outputId" | "size">;
  /** Whether the output file already holds this output, once a streamed body asks. */
  #alreadyStored = false;
  #buffered: Uint8Array[] = [];
  #bufferedBytes = 0;
  #file: StreamedFile | undefined;

  /**
   * Prepares to write an output.
   *
   * @param path The output file.
   * @param output Its OutputID and size.
   */
  constructor(path: string, output: Pick<PutRequest, "outputId" | "size">) {
    this.#path = path;
    this.#output = output;
  }

  /**
   * Takes the next piece of the body.
   *
   * @param chunk The bytes, which the writer may keep.
   */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.#alreadyStored) return;
    if (this.#file === undefined) {
      if (this.#bufferedBytes + chunk.length <= IN_MEMORY_BODY_LIMIT) {
        this.#buffered.push(chunk);
        this.#bufferedBytes += chunk.length;
        return;
      }
      if (holdsOutput(this.#path, this.#output)) {
        this.#alreadyStored = true;
        this.#buffered = [];
        return;
      }
      this.#file = await StreamedFile.create(this.#path);
      for (const part of this.#buffered) await this.#file.write(part);
      this.#buffered = [];
    }
    await this.#file.write(chunk);
  }

  /**
   * Puts the output in place: at once for a small body, or an output already stored.
   *
   * @returns Nothing, or a promise that settles once it is in place.
   */
  commit(): void | Promise<void> {
    const file = this.#file;
    if (file === undefined) {
      if (!this.#alreadyStored) {
        writeOutputSync(this.#path, this.#output, concatBytes(this.#buffered, this.#bufferedBytes));
      }
      this.#buffered = [];
      return;
    }
    this.#file = undefined;
    return file.commit();
  }

  /** Discards whatever was written. */
  async abort(): Promise<void> {
    this.#buffered = [];
    await this.#file?.abort();
    this.#file = undefined;
  }
}
