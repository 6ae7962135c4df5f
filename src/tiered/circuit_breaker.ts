/**
 * A circuit breaker for a remote store: after a timeout, or a few errors in a row, stop
 * asking it, and let a background probe decide when to ask again. While it is open the
 * build runs from the local cache alone and pays nothing for the remote.
 *
 * @module
 */

import { type Clock, SYSTEM_CLOCK } from "../util/clock.ts";
import { DEFAULT_BREAKER_COOLDOWN_MILLIS, DEFAULT_BREAKER_FAILURE_THRESHOLD } from "./defaults.ts";

/** Options for {@linkcode CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /**
   * Consecutive errors that open the breaker (a timeout opens it at once).
   *
   * @default {3}
   */
  failureThreshold?: number;
  /**
   * How long the breaker stays open before a probe may close it, in milliseconds.
   *
   * @default {5000}
   */
  cooldownMillis?: number;
  /** The clock cooldowns are measured on; the system's unless given. */
  clock?: Clock;
  /** Called each time the breaker opens, with the reason. */
  onOpen?: (reason: string) => void;
  /** Called each time the breaker closes again. */
  onClose?: () => void;
}

/** The state of a {@linkcode CircuitBreaker}. */
export type BreakerState = "closed" | "open";

/**
 * Counts failures and says whether the remote may be used.
 *
 * @example Opened by three errors in a row, closed by a success
 * ```ts
 * import assert from "node:assert/strict";
 * import { CircuitBreaker } from "./circuit_breaker.ts";
 *
 * const breaker = new CircuitBreaker();
 * for (let i = 0; i < 3; i++) breaker.recordFailure("connection reset");
 * assert.equal(breaker.state, "open");
 * breaker.recordSuccess();
 * assert.equal(breaker.allows(), true);
 * ```
 */
export class CircuitBreaker {
  #failureThreshold: number;
  #cooldownMillis: number;
  #clock: Clock;
  #onOpen: (reason: string) => void;
  #onClose: () => void;
  #consecutiveFailures = 0;
  #openedAt = 0;
  #state: BreakerState = "closed";

  /**
   * Creates a closed breaker.
   *
   * @param options Thresholds, the clock and the callbacks.
   */
  constructor(options: CircuitBreakerOptions = {}) {
    this.#failureThreshold = options.failureThreshold ?? DEFAULT_BREAKER_FAILURE_THRESHOLD;
    this.#cooldownMillis = options.cooldownMillis ?? DEFAULT_BREAKER_COOLDOWN_MILLIS;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#onOpen = options.onOpen ?? (() => {});
    this.#onClose = options.onClose ?? (() => {});
  }

  /** The current state. */
  get state(): BreakerState {
    return this.#state;
  }

  /**
   * Whether requests may go to the remote now.
   *
   * @returns `true` while the breaker is closed.
   */
  allows(): boolean {
    return this.#state === "closed";
  }

  /**
   * Whether it is time to probe the remote: the breaker is open and has cooled down.
   *
   * @returns `true` when a probe should be sent.
   */
  shouldProbe(): boolean {
    return this.#state === "open" && this.cooldownLeft() === 0;
  }

  /**
   * How long until a probe is due.
   *
   * @returns Milliseconds until {@linkcode CircuitBreaker.shouldProbe} says yes; 0 when it
   * does now, or when the breaker is closed.
   */
  cooldownLeft(): number {
    if (this.#state === "closed") return 0;
    return Math.max(0, this.#openedAt + this.#cooldownMillis - this.#clock.now());
  }

  /** Records a success: closes the breaker and clears the failure count. */
  recordSuccess(): void {
    this.#consecutiveFailures = 0;
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#onClose();
  }

  /**
   * Records a failure.
   *
   * @param reason What went wrong, for the open callback.
   * @param immediate Open at once (a timeout: the remote is slow or frozen, and waiting
   * on it again would cost the build the same again).
   */
  recordFailure(reason: string, immediate = false): void {
    this.#consecutiveFailures++;
    if (this.#state === "open") {
      this.#openedAt = this.#clock.now(); // a failed probe: cool down again
      return;
    }
    if (immediate || this.#consecutiveFailures >= this.#failureThreshold) {
      this.#state = "open";
      this.#openedAt = this.#clock.now();
      this.#onOpen(reason);
    }
  }
}
