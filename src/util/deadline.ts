/**
 * Deadlines for work that may never finish (a frozen server).
 *
 * @module
 */

import { DeadlineError } from "../errors.ts";

/**
 * Rejects with a {@linkcode DeadlineError} if `promise` has not settled within `millis`.
 * The work itself is not cancelled: it is abandoned.
 *
 * @param promise The work.
 * @param millis The deadline, in milliseconds.
 * @param operation Names the work in the error.
 * @returns The work's result.
 * @throws {DeadlineError} If the deadline passes first.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  millis: number,
  operation: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(operation, millis)), millis);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
