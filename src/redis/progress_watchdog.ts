/**
 * The deadlines of a pipelined connection, which measure progress, not age: it fails
 * when no byte has moved in either direction for the stall deadline while commands
 * wait, or when the command at the head of the pipeline has taken longer than the stall
 * deadline plus its bytes (sent and received) at a floor rate. So a big value on a slow
 * link is given the time it needs, and a frozen server is noticed within the stall
 * deadline, however big the transfer. Bytes written are only in the kernel's send
 * buffer until the server reads them, so after a write the stall deadline also allows
 * for draining what may still sit there at the floor rate.
 *
 * @module
 */

import { DeadlineError } from "../errors.ts";
import type { Clock } from "../util/clock.ts";

/** How long commands may wait: without progress at all, and at the least transfer rate. */
export interface ProgressDeadline {
  /** The most time without a byte moving while commands wait, in milliseconds. */
  stallMillis: number;
  /** The slowest transfer rate a command is allowed, in bytes per second. */
  floorBytesPerSecond: number;
}

/** The most a socket's send buffer holds on Linux (`tcp_wmem`'s default maximum). */
export const SOCKET_BUFFER_BYTES = 4 << 20;

/** The command at the head of the pipeline, as the watchdog sees it. */
export interface HeadCommand {
  /** Its name, for the error. */
  name: string;
  /** Bytes sent, and received as they become known. */
  bytes: number;
  /** When it reached the head of the pipeline. */
  since: number;
}

/** Watches one connection's progress while commands wait, and says when it is too slow. */
export class ProgressWatchdog {
  #deadline: ProgressDeadline;
  #clock: Clock;
  #head: () => HeadCommand | undefined;
  #onLate: (error: DeadlineError) => void;
  /** When a byte last moved, in either direction. */
  #lastProgress: number;
  /** Bytes written since a byte was last read: they may still be in the send buffer. */
  #unconfirmed = 0;
  /** Cancels the armed check; `undefined` while none is armed. */
  #cancel: (() => void) | undefined;
  #stopped = false;

  /**
   * Creates a watchdog; {@linkcode ProgressWatchdog.arm} starts it.
   *
   * @param deadline The stall deadline and the floor rate.
   * @param clock The clock.
   * @param head The command at the head of the pipeline, if any.
   * @param onLate Called once, when a deadline is missed.
   */
  constructor(
    deadline: ProgressDeadline,
    clock: Clock,
    head: () => HeadCommand | undefined,
    onLate: (error: DeadlineError) => void,
  ) {
    this.#deadline = deadline;
    this.#clock = clock;
    this.#head = head;
    this.#onLate = onLate;
    this.#lastProgress = clock.now();
  }

  /** Notes that a command was sent on an idle connection: its clock starts now. */
  startedIdle(): void {
    this.#lastProgress = this.#clock.now();
  }

  /**
   * Notes bytes written.
   *
   * @param count How many.
   */
  wrote(count: number): void {
    this.#unconfirmed += count;
    this.#lastProgress = this.#clock.now();
  }

  /** Notes bytes read: the server is moving, and has read what was sent before. */
  read(): void {
    this.#lastProgress = this.#clock.now();
    this.#unconfirmed = 0;
  }

  /** Checks the deadlines every quarter of the stall deadline while commands wait. */
  arm(): void {
    if (this.#stopped || this.#cancel !== undefined) return;
    const deadline = this.#deadline;
    this.#cancel = this.#clock.after(deadline.stallMillis / 4, () => {
      this.#cancel = undefined;
      const head = this.#head();
      if (head === undefined || this.#stopped) return;
      const now = this.#clock.now();
      const buffered = Math.min(this.#unconfirmed, SOCKET_BUFFER_BYTES);
      const stall = deadline.stallMillis + (1000 * buffered) / deadline.floorBytesPerSecond;
      if (now - this.#lastProgress > stall) {
        this.#late(new DeadlineError(`Redis ${head.name} (no byte moved)`, stall));
        return;
      }
      const allowed = deadline.stallMillis + (1000 * head.bytes) / deadline.floorBytesPerSecond;
      if (now - head.since > allowed) {
        this.#late(new DeadlineError(`Redis ${head.name}`, allowed));
        return;
      }
      this.arm();
    });
  }

  /** Stops watching for good. */
  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #late(error: DeadlineError): void {
    this.stop();
    this.#onLate(error);
  }
}
