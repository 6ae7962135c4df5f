/**
 * Standard output, which belongs to the GOCACHEPROG protocol while serving and to a
 * command's output otherwise: written synchronously and whole, and ended quietly when
 * the reader has gone away.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Writes all of `bytes` to stdout. When the go command has gone away, there is nobody
 * left to answer: the program ends quietly.
 *
 * @param bytes What to write.
 */
export function writeStdoutOrExit(bytes: Uint8Array): void {
  let written = 0;
  try {
    while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) Deno.exit(0);
    throw error;
  }
}

/**
 * Writes text to stdout.
 *
 * @param text What to write.
 */
export function writeStdout(text: string): void {
  writeStdoutOrExit(encoder.encode(text));
}
