/**
 * Diagnostics on stderr. Standard output belongs to the GOCACHEPROG protocol, so
 * nothing in this program may write anything else there.
 *
 * @module
 */

/** Where diagnostics go: one call per complete line, without the trailing newline. */
export type LineSink = (line: string) => void;

/** A stderr logger that prefixes every line and can say a warning only once. */
export class Logger {
  #sink: LineSink;
  #said = new Set<string>();

  /**
   * Creates a logger.
   *
   * @param sink Receives each finished line; defaults to synchronous writes to stderr.
   */
  constructor(sink: LineSink = writeStderrLine) {
    this.#sink = sink;
  }

  /**
   * Writes one line, prefixed with `gocacheprog: `.
   *
   * @param message The text of the line.
   */
  info(message: string): void {
    this.#sink(`gocacheprog: ${oneLine(message)}`);
  }

  /**
   * Writes a warning the first time a given `key` is seen, and nothing after that,
   * so a failing disk or remote produces one clear line instead of one per request.
   *
   * @param key What makes two warnings "the same".
   * @param message The text of the line.
   * @returns Whether the line was written.
   */
  warnOnce(key: string, message: string): boolean {
    if (this.#said.has(key)) return false;
    this.#said.add(key);
    this.#sink(`gocacheprog: warning: ${oneLine(message)}`);
    return true;
  }
}

/** A message on one line: an error's own message may run over several (Deno's do). */
function oneLine(message: string): string {
  return message.includes("\n") ? message.replace(/\s*\n\s*/g, " / ") : message;
}

const encoder = new TextEncoder();

/**
 * Writes one line to stderr synchronously, so that it lands before the process exits.
 *
 * @param line The line, without a newline.
 */
export function writeStderrLine(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  try {
    while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
  } catch {
    // stderr is gone (the go command exited): there is nobody left to tell.
  }
}
