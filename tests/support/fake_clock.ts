/**
 * A {@linkcode Clock} that moves only when a test moves it, so that cooldowns, deadlines
 * and waits are tested in no time and never depend on how fast the machine is.
 *
 * @module
 */

import type { Clock } from "../../src/util/clock.ts";

interface Timer {
  at: number;
  order: number;
  callback: () => void;
  cancelled: boolean;
}

/** Lets every promise that can settle without I/O or time do so. */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 50; turn++) await Promise.resolve();
}

/** A clock whose time moves only in {@linkcode FakeClock.advance}. */
export class FakeClock implements Clock {
  #now = 0;
  #order = 0;
  #timers: Timer[] = [];

  /** The time now, in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Calls back once the clock has been moved past `millis` from now. */
  after(millis: number, callback: () => void): () => void {
    const timer = {
      at: this.#now + Math.max(0, millis),
      order: this.#order++,
      callback,
      cancelled: false,
    };
    this.#timers.push(timer);
    return () => timer.cancelled = true;
  }

  /** How many timers are waiting. */
  get pendingTimers(): number {
    return this.#timers.filter((timer) => !timer.cancelled).length;
  }

  /**
   * Moves time on by `millis`, firing each timer that falls due in order, at its own
   * time, and letting promises settle after each.
   *
   * @param millis How far to move.
   */
  async advance(millis: number): Promise<void> {
    const target = this.#now + millis;
    await settle();
    for (;;) {
      this.#timers = this.#timers.filter((timer) => !timer.cancelled);
      const due = this.#timers.filter((timer) =>
        timer.at <= target
      ).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (due === undefined) {
        break;
      }
      this.#timers.splice(this.#timers.indexOf(due), 1);
      this.#now = Math.max(this.#now, due.at);
      due.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }
}
