/**
 * Deadlines for work that may never finish (a frozen server).
 *
 * @module
 */

/** The error a missed deadline rejects with. */
export class DeadlineError extends Error {
  /**
   * Creates the error.
   *
   * @param message What timed out.
   */
  constructor(message: string) {
    super(message);
    this.name = "DeadlineError";
  }
}

/**
 * Rejects with a {@linkcode DeadlineError} if `promise` has not settled within `millis`.
 * The work itself is not cancelled: it is abandoned.
 *
 * @param promise The work.
 * @param millis The deadline, in milliseconds.
 * @param what Names the work in the error.
 * @returns The work's result.
 */
export function withDeadline<T>(promise: Promise<T>, millis: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlineError(`${what} timed out after ${millis} ms`)),
      millis,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
