/**
 * The remote tier's link to its remote store: connecting in the background, the circuit
 * breaker that stops asking a remote that failed, and the probe that asks again later.
 * Every other part of the tier asks the link before it uses the remote, and tells it how
 * each use went; what counts as the remote failing (a missed deadline, refused
 * credentials, errors in a row) is decided here, once.
 *
 * @module
 */

import { DEFAULT_REMOTE_TIMEOUT_MILLIS, type RemoteStore } from "../store.ts";
import { CircuitBreaker } from "./circuit_breaker.ts";
import { withDeadline } from "../util/deadline.ts";
import { DeadlineError, messageOf, RemoteFullError } from "../errors.ts";
import type { Logger } from "../util/log.ts";
import type { TierMetrics } from "./tier_metrics.ts";

/** How long the breaker stays open before a probe, unless configured. */
export const DEFAULT_BREAKER_COOLDOWN_MILLIS = 5000;

/** Options for {@linkcode RemoteLink}. */
export interface RemoteLinkOptions {
  /** The remote store, or a promise of it while its code loads. */
  remote: RemoteStore | Promise<RemoteStore>;
  /** Where the one warning goes. */
  logger: Logger;
  /** Counts the breaker's trips. */
  metrics: TierMetrics;
  /**
   * The deadline for one operation, in milliseconds; connecting may take twice that.
   *
   * @default {1000}
   */
  timeoutMillis?: number;
  /**
   * How long the breaker stays open before a probe, in milliseconds.
   *
   * @default {5000}
   */
  breakerCooldownMillis?: number;
  /** Called once the remote is connected and usable. */
  onConnected?: (remote: RemoteStore) => void;
}

/** Connects to the remote store in the background and decides when it may be used. */
export class RemoteLink {
  /** Settles once connecting has succeeded or failed: the store, if its code loaded. */
  readonly connected: Promise<RemoteStore | undefined>;
  #breaker: CircuitBreaker;
  #logger: Logger;
  #timeoutMillis: number;
  #remote: RemoteStore | undefined;
  #connecting = true;
  #probing = false;

  /**
   * Starts connecting.
   *
   * @param options The remote store and the limits.
   */
  constructor(options: RemoteLinkOptions) {
    this.#timeoutMillis = options.timeoutMillis ?? DEFAULT_REMOTE_TIMEOUT_MILLIS;
    const { logger, metrics } = options;
    this.#logger = logger;
    this.#breaker = new CircuitBreaker({
      cooldownMillis: options.breakerCooldownMillis ?? DEFAULT_BREAKER_COOLDOWN_MILLIS,
      onOpen: (reason) => {
        metrics.breakerTrips++;
        const where = this.#remote?.description ?? "the remote cache";
        logger.warnOnce(
          "remote-down",
          `${where} is unavailable (${reason}); building from the local cache alone ` +
            "and retrying in the background",
        );
      },
    });
    this.connected = this.#connect(options.remote, options.onConnected)
      .finally(() => this.#connecting = false);
  }

  /** The remote store, once its code has loaded (usable or not). */
  get remote(): RemoteStore | undefined {
    return this.#remote;
  }

  /**
   * Where the link stands: still `connecting`, `up` (the remote may be asked), or
   * `down` (it could not be reached, or failed since, and its breaker is open).
   */
  get state(): "connecting" | "up" | "down" {
    return this.#connecting ? "connecting" : this.#breaker.allows() ? "up" : "down";
  }

  /** The remote's deadline for one operation, in milliseconds. */
  get timeoutMillis(): number {
    return this.#timeoutMillis;
  }

  /**
   * Whether the remote may be asked now.
   *
   * @returns `true` while the breaker is closed.
   */
  allows(): boolean {
    return this.#breaker.allows();
  }

  /**
   * Whether the remote may be asked now, for a request that was going to ask it. When it
   * may not, a probe is started if one is due, so that the breaker closes again once the
   * remote answers.
   *
   * @returns `true` while the breaker is closed.
   */
  allowsOrProbe(): boolean {
    if (this.#breaker.allows()) return true;
    this.#maybeProbe();
    return false;
  }

  /**
   * Waits for connecting to settle, then gives the remote if it may be asked.
   *
   * @returns The remote, or `undefined` when it cannot be used now.
   */
  async acquire(): Promise<RemoteStore | undefined> {
    const remote = await this.connected;
    return remote !== undefined && this.allows() ? remote : undefined;
  }

  /** Records a use of the remote that worked. */
  succeeded(): void {
    this.#breaker.recordSuccess();
  }

  /**
   * Records a use of the remote that failed. A missed deadline opens the breaker at once
   * (waiting on a frozen remote again would cost the build the same again); other errors
   * open it after a few in a row. A full remote is not a failing one: reads go on, and
   * it is said once.
   *
   * @param error What the remote operation threw.
   */
  failed(error: unknown): void {
    if (error instanceof RemoteFullError) {
      this.#logger.warnOnce(
        "remote-full",
        `${this.#remote?.description ?? "the remote cache"} is full (${error.message}); ` +
          "new entries are not being uploaded",
      );
      return;
    }
    this.#breaker.recordFailure(messageOf(error), error instanceof DeadlineError);
  }

  /** Whether connecting or probing needs the event loop. */
  busy(): boolean {
    return this.#connecting || this.#probing;
  }

  /** Closes the remote's connections. */
  async close(): Promise<void> {
    await this.#remote?.close().catch(() => {});
  }

  async #connect(
    remote: RemoteStore | Promise<RemoteStore>,
    onConnected: ((remote: RemoteStore) => void) | undefined,
  ): Promise<RemoteStore | undefined> {
    let store: RemoteStore;
    try {
      store = await remote;
    } catch (error) {
      this.#breaker.recordFailure(messageOf(error), true);
      return undefined;
    }
    this.#remote = store;
    // The store's own connect deadline bounds this; the outer one is a safety net.
    const ready = await withDeadline(store.ready(), this.#timeoutMillis * 2, "connecting")
      .catch(() => false);
    // Not reachable yet: the breaker opens, and its background probe tells when it is.
    if (!ready) {
      this.#breaker.recordFailure(store.lastError?.message ?? "it cannot be reached", true);
    } else onConnected?.(store);
    return store;
  }

  #maybeProbe(): void {
    const remote = this.#remote;
    if (this.#probing || remote === undefined || !this.#breaker.shouldProbe()) return;
    this.#probing = true;
    withDeadline(remote.ping(), this.#timeoutMillis, "probing")
      .then(
        () => this.#breaker.recordSuccess(),
        (error) => this.#breaker.recordFailure(messageOf(error)),
      )
      .finally(() => this.#probing = false);
  }
}
