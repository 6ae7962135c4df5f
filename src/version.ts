/**
 * The program's version, kept equal to `deno.json`'s (a test checks it). A constant
 * rather than a JSON import, so start-up reads no extra file.
 *
 * @module
 */

/** The program's version. */
export const VERSION = "0.1.0";
