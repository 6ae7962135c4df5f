/**
 * The remote tier's link to its remote store: connecting in the background, the circuit
 * breaker that stops asking a remote that failed, and the probe that asks again later.
 * Every other part of the tier asks the link before it uses the remote, and tells it how
 * each use went; what counts as the remote failing (a missed deadline, errors in a row)
 * is decided here, once.
 *
 * Connecting has a budget of its own (the remote store's), longer than a get's deadline:
 * a Redis Cluster can take seconds to load and discover while the go command compiles on
 * every core. Gets wait for it at most one deadline, then go on from local disk; uploads
 * wait for it (in their queue) until it is up. While the breaker is open, uploads wait
 * for a probe to find the remote answering again.
 *
 * @module
 */

import { DEFAULT_REMOTE_TIMEOUT_MILLIS, type RemoteStore } from "../store.ts";
import { CircuitBreaker } from "./circuit_breaker.ts";
import { withDeadline } from "../util/deadline.ts";
import { DeadlineError, messageOf, RemoteAuthError, RemoteFullError } from "../errors.ts";
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
   * How long gets wait for connecting, and a probe's deadline, in milliseconds.
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

/** Where a link stands; see {@linkcode RemoteLink.state}. */
export type LinkState = "connecting" | "up" | "down";

/** Connects to the remote store in the background and decides when it may be used. */
export class RemoteLink {
  /** Settles once connecting has succeeded or failed: the store, if its code loaded. */
  readonly connected: Promise<RemoteStore | undefined>;
  #breaker: CircuitBreaker;
  #logger: Logger;
  #timeoutMillis: number;
  #remote: RemoteStore | undefined;
  #connecting = true;
  /** When connecting started: gets wait for it at most one deadline from then. */
  #startedAt = performance.now();
  /**
   * Settles when connecting settles, or one get deadline after it started, whichever is
   * first. Made by the first get that finds the link still connecting, so that a link
   * that connects before the go command's first get never sets a timer: a process's
   * first `setTimeout` costs 7-17 ms of CPU here.
   */
  #demandWait: Promise<void> | undefined;
  #probing: Promise<void> | undefined;
  #downWaiters: (() => void)[] = [];
  #upWaiters: (() => void)[] = [];
  #closeWaiters: (() => void)[] = [];
  #closed = false;

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
        for (const resolve of this.#downWaiters.splice(0)) resolve();
        logger.warnOnce(
          "remote-down",
          `${this.#where()} is unavailable (${reason}); building from the local cache alone ` +
            "and retrying in the background",
        );
      },
      onClose: () => {
        for (const resolve of this.#upWaiters.splice(0)) resolve();
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
  get state(): LinkState {
    return this.#connecting ? "connecting" : this.#breaker.allows() ? "up" : "down";
  }

  /**
   * Whether the remote may be asked now: its breaker is closed (it may still be
   * connecting, which requests wait for in their own way).
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
    if (this.#breaker.shouldProbe()) void this.#probe();
    return false;
  }

  /**
   * For a get the go command waits on: waits for connecting at most one get deadline
   * from the start, then gives the remote if it may be asked.
   *
   * @returns The remote, or `undefined` when it cannot be used now.
   */
  async acquire(): Promise<RemoteStore | undefined> {
    if (this.#connecting) {
      const left = this.#startedAt + this.#timeoutMillis - performance.now();
      if (left > 0) await (this.#demandWait ??= this.#sleep(left, this.connected));
    }
    return this.state === "up" ? this.#remote : undefined;
  }

  /**
   * For an upload: waits until the remote may be used, through connecting and, while the
   * breaker is open, through probes, until the link is closed.
   *
   * @returns The remote, or `undefined` once the link is closed or the remote's code
   * could not be loaded.
   */
  async usable(): Promise<RemoteStore | undefined> {
    const remote = await this.connected;
    if (remote === undefined) return undefined;
    while (!this.#closed) {
      if (this.#breaker.allows()) return remote;
      // A probe closes the breaker; so may a get that worked meanwhile.
      await Promise.race([
        this.#probe(),
        new Promise<void>((resolve) => this.#upWaiters.push(resolve)),
      ]);
    }
    return undefined;
  }

  /**
   * Settles when the link is down (at once if it is): nothing waiting on it will go on
   * before a probe finds the remote again.
   *
   * @returns A promise that settles when the link is down.
   */
  down(): Promise<void> {
    if (this.state === "down") return Promise.resolve();
    return new Promise((resolve) => this.#downWaiters.push(resolve));
  }

  /** Records a use of the remote that worked. */
  succeeded(): void {
    this.#breaker.recordSuccess();
  }

  /**
   * Records a use of the remote that failed. A missed deadline or refused credentials open
   * the breaker at once (asking again would cost the build the same again); other errors
   * open it after a few in a row. A full remote is not a failing one: reads go on, and
   * it is said once.
   *
   * @param error What the remote operation threw.
   */
  failed(error: unknown): void {
    if (error instanceof RemoteFullError) {
      this.#logger.warnOnce(
        "remote-full",
        `${this.#where()} is full (${error.message}); new entries are not being uploaded`,
      );
      return;
    }
    // A frozen remote, or refused credentials, will not be different on the next request.
    const immediate = error instanceof DeadlineError || error instanceof RemoteAuthError;
    this.#breaker.recordFailure(messageOf(error), immediate);
  }

  /** Whether connecting or probing needs the event loop. */
  busy(): boolean {
    return this.#connecting || this.#probing !== undefined;
  }

  /** Stops waiting for the remote, and closes its connections. */
  async close(): Promise<void> {
    this.#closed = true;
    const waiters = [this.#downWaiters, this.#upWaiters, this.#closeWaiters];
    for (const resolve of waiters.flatMap((list) => list.splice(0))) resolve();
    await this.#remote?.close().catch(() => {});
  }

  #where(): string {
    return this.#remote?.description ?? "the remote cache";
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
    // The store's own connect budget bounds this.
    const ready = await store.ready().catch(() => false);
    // Not reachable: the breaker opens, and its probe tells when the remote is back.
    if (!ready) {
      this.#breaker.recordFailure(store.lastError?.message ?? "it cannot be reached", true);
    } else onConnected?.(store);
    return store;
  }

  /** Probes once the breaker has cooled down; settles after the probe, or on close. */
  #probe(): Promise<void> {
    this.#probing ??= (async () => {
      const remote = this.#remote;
      const wait = this.#breaker.cooldownLeft();
      if (wait > 0) await this.#sleep(wait, this.#closing());
      if (remote === undefined || this.#closed || this.#breaker.allows()) return;
      await withDeadline(remote.ping(), this.#timeoutMillis, "probing").then(
        () => this.#breaker.recordSuccess(),
        (error) => this.#breaker.recordFailure(messageOf(error)),
      );
    })().finally(() => this.#probing = undefined);
    return this.#probing;
  }

  /** Waits `millis`, or until `until` settles; the timer never outlives the wait. */
  #sleep(millis: number, until: Promise<unknown>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const elapsed = new Promise<void>((resolve) => timer = setTimeout(resolve, millis));
    const settled = until.then(() => {}, () => {});
    return Promise.race([elapsed, settled]).finally(() => clearTimeout(timer));
  }

  /** Settles when the link is closed. */
  #closing(): Promise<void> {
    return this.#closed
      ? Promise.resolve()
      : new Promise((resolve) => this.#closeWaiters.push(resolve));
  }
}
