/**
 * Deadlines for work that may never finish (a frozen server).
 *
 * They are `AbortSignal.timeout` signals rather than `setTimeout` timers: here the first
 * `setTimeout` of a process costs 7-17 ms of CPU (it loads Deno's Node-compatible
 * timers), where `AbortSignal.timeout` costs under 1 ms, and every session with a
 * remote store sets deadlines. Such a timer cannot be cleared, only ignored, and it
 * never keeps the process alive: the work it watches must (a socket's pending read, say).
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
  return new Promise<T>((resolve, reject) => {
    const stop = afterUnlessCancelled(millis, () => reject(new DeadlineError(operation, millis)));
    promise.then(resolve, reject).finally(stop);
  });
}

/**
 * Calls `callback` once `millis` have passed, unless cancelled first.
 *
 * @param millis The delay, in milliseconds.
 * @param callback What to call.
 * @returns A function that cancels the call.
 */
export function afterUnlessCancelled(millis: number, callback: () => void): () => void {
  const signal = AbortSignal.timeout(millis);
  signal.addEventListener("abort", callback, { once: true });
  return () => signal.removeEventListener("abort", callback);
}
