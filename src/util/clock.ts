/**
 * The one seam for time: everything that measures or waits takes a {@linkcode Clock}, so
 * that the remote tier's timing (deadlines, the circuit breaker's cooldown, probes,
 * waiting for a connection) is tested with a clock that moves only when a test says.
 *
 * The system clock's timers are `AbortSignal.timeout` signals rather than `setTimeout`
 * timers: a process's first `setTimeout` loads Deno's Node-compatible timers, which
 * costs every session measurably (see the README's Design section), where a signal costs
 * next to nothing. Such a timer never keeps the process alive: the work it watches must
 * (a socket's pending read, say).
 *
 * @module
 */

import { DeadlineError } from "../errors.ts";

/** Where the time comes from, and how to be called back later. */
export interface Clock {
  /**
   * The time in milliseconds since an arbitrary origin; it never goes back.
   *
   * @returns The time.
   */
  now(): number;
  /**
   * Calls `callback` once `millis` have passed, unless cancelled first. The timer never
   * keeps the process alive by itself.
   *
   * @param millis The delay, in milliseconds.
   * @param callback What to call.
   * @returns A function that cancels the call.
   */
  after(millis: number, callback: () => void): () => void;
}

/** The system's monotonic clock (`performance.now()`), with `AbortSignal.timeout` timers. */
export const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  after(millis, callback) {
    const signal = AbortSignal.timeout(Math.max(0, millis));
    signal.addEventListener("abort", callback, { once: true });
    return () => signal.removeEventListener("abort", callback);
  },
};

/**
 * Waits `millis`, or until `until` settles, whichever is first.
 *
 * @param clock The clock.
 * @param millis The longest wait, in milliseconds.
 * @param until Ends the wait early when it settles, either way.
 * @returns A promise that settles when the wait is over; it never rejects.
 */
export function sleep(clock: Clock, millis: number, until?: Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    const cancel = clock.after(millis, resolve);
    until?.then(() => (cancel(), resolve()), () => (cancel(), resolve()));
  });
}

/**
 * Rejects with a {@linkcode DeadlineError} if `promise` has not settled within `millis`.
 * The work itself is not cancelled: it is abandoned.
 *
 * @example A deadline met, and one missed
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeadlineError } from "../errors.ts";
 * import { SYSTEM_CLOCK, withDeadline } from "./clock.ts";
 *
 * assert.equal(await withDeadline(Promise.resolve(7), 1000, "quick"), 7);
 * const never = new Promise(() => {});
 * let failed: unknown;
 * const keepAlive = setTimeout(() => {}, 100); // a socket's read would, in real use
 * await withDeadline(never, 20, "connecting", SYSTEM_CLOCK).catch((error) => failed = error);
 * clearTimeout(keepAlive);
 * assert.ok(failed instanceof DeadlineError && failed.operation === "connecting");
 * ```
 *
 * @param promise The work.
 * @param millis The deadline, in milliseconds.
 * @param operation Names the work in the error.
 * @param clock The clock; the system's unless given.
 * @returns The work's result.
 * @throws {DeadlineError} If the deadline passes first.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  millis: number,
  operation: string,
  clock: Clock = SYSTEM_CLOCK,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = clock.after(millis, () => reject(new DeadlineError(operation, millis)));
    promise.then(resolve, reject).finally(cancel);
  });
}
