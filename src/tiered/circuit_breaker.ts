/**
 * A circuit breaker for a remote store: after a timeout, or a few errors in a row, stop
 * asking it, and let a background probe decide when to ask again. While it is open the
 * build runs from the local cache alone and pays nothing for the remote.
 *
 * @module
 */

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
  /** Called each time the breaker opens, with the reason. */
  onOpen?: (reason: string) => void;
  /** Called each time the breaker closes again. */
  onClose?: () => void;
}

/** The state of a {@linkcode CircuitBreaker}. */
export type BreakerState = "closed" | "open";

/** Counts failures and says whether the remote may be used. */
export class CircuitBreaker {
  #failureThreshold: number;
  #cooldownMillis: number;
  #onOpen: (reason: string) => void;
  #onClose: () => void;
  #consecutiveFailures = 0;
  #openedAt = 0;
  #state: BreakerState = "closed";
  /** How many times the breaker has opened. */
  trips = 0;

  /**
   * Creates a closed breaker.
   *
   * @param options Thresholds and the open callback.
   */
  constructor(options: CircuitBreakerOptions = {}) {
    this.#failureThreshold = options.failureThreshold ?? 3;
    this.#cooldownMillis = options.cooldownMillis ?? 5000;
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
   * @param now The current time from `performance.now()`.
   * @returns `true` when a probe should be sent.
   */
  shouldProbe(now: number = performance.now()): boolean {
    return this.#state === "open" && now - this.#openedAt >= this.#cooldownMillis;
  }

  /**
   * How long until a probe is due.
   *
   * @param now The current time from `performance.now()`.
   * @returns Milliseconds until {@linkcode CircuitBreaker.shouldProbe} says yes; 0 when it
   * does now, or when the breaker is closed.
   */
  cooldownLeft(now: number = performance.now()): number {
    if (this.#state === "closed") return 0;
    return Math.max(0, this.#openedAt + this.#cooldownMillis - now);
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
      this.#openedAt = performance.now(); // a failed probe: cool down again
      return;
    }
    if (immediate || this.#consecutiveFailures >= this.#failureThreshold) {
      this.#state = "open";
      this.#openedAt = performance.now();
      this.trips++;
      this.#onOpen(reason);
    }
  }
}
