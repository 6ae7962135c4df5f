/**
 * What end-to-end tests check of a go command run through this program: that it
 * succeeded, and what the program said on its stderr (its warnings, its metrics).
 *
 * @module
 */

import assert from "node:assert/strict";

/** The packages a build of the fixture module (`makeGoModule`) compiles, as `-x` names them. */
export const FIXTURE_PACKAGES: readonly string[] = [
  "example.com/fixture/greet",
  "example.com/fixture/lib",
  "example.com/fixture/mathx",
  "main", // cmd/app: a main package compiles as "main"
];

/**
 * Fails, with the command's stderr, unless it exited 0.
 *
 * @param result The command's result.
 * @param what What it was, for the message.
 */
export function assertBuilt(result: { code: number; stderr: string }, what: string): void {
  assert.equal(result.code, 0, `${what} failed:\n${result.stderr}`);
}

/**
 * The remote hits in a `--log-metrics` summary.
 *
 * @param stderr The go command's stderr.
 * @returns The count; 0 when there is no summary.
 */
export function remoteHits(stderr: string): number {
  return Number(/hits: \d+ local, (\d+) remote/.exec(stderr)?.[1] ?? 0);
}

/**
 * The program's warning lines.
 *
 * @param stderr The go command's stderr.
 * @returns The lines that start with `gocacheprog: warning:`.
 */
export function warnings(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("gocacheprog: warning:"));
}
