/**
 * A logger whose lines are kept, for asserting on what the program said.
 *
 * @module
 */

import { Logger } from "../../src/util/log.ts";

/** A logger that keeps its lines. */
export interface CapturedLogger {
  /** The logger. */
  logger: Logger;
  /** Every line it wrote. */
  lines: string[];
  /** The warning lines. */
  warnings(): string[];
}

/**
 * A logger that keeps its lines instead of writing them.
 *
 * @returns The logger and its lines.
 */
export function captureLogger(): CapturedLogger {
  const lines: string[] = [];
  return {
    logger: new Logger((line) => lines.push(line)),
    lines,
    warnings: () => lines.filter((line) => line.includes("warning:")),
  };
}
