/**
 * The remote tier's link to its remote store: connecting in the background, the circuit
 * breaker that stops asking a remote that failed, and the probe that asks again later.
 * Every other part of the tier asks the link before it uses the remote, and tells it how
 * each use went; what counts as the remote failing (a missed deadline, errors in a row)
 * is decided here, once. Work cut off by our own close is not a failure.
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
import type { Counted, Counters } from "../metrics.ts";
import { CircuitBreaker } from "./circuit_breaker.ts";
import { DEFAULT_BREAKER_COOLDOWN_MILLIS } from "./defaults.ts";
import { type Clock, sleep, SYSTEM_CLOCK, withDeadline } from "../util/clock.ts";
import {
  ClosedError,
  DeadlineError,
  messageOf,
  RemoteAuthError,
  RemoteFullError,
} from "../errors.ts";
import type { Logger } from "../util/log.ts";

/**
 * What the go processes of one job know together of the remote (the cache directory's
 * health file, in the program), so that a remote found unreachable costs a job one
 * deadline, not one per go command.
 */
export interface RemoteHealth {
  /**
   * Whether another process found the remote unreachable, recently.
   *
   * @returns `true` when it did.
   */
  knownDown(): boolean;
  /**
   * Records that the remote is unreachable.
   *
   * @param reason Why.
   */
  markDown(reason: string): void;
  /** Records that the remote answered. */
  markUp(): void;
}

/** Options for {@linkcode RemoteLink}. */
export interface RemoteLinkOptions {
  /** The remote store, or a promise of it while its code loads. */
  remote: RemoteStore | Promise<RemoteStore>;
  /** Where the one warning goes. */
  logger: Logger;
  /** The clock that deadlines and cooldowns are measured on; the system's unless given. */
  clock?: Clock;
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
  /**
   * What other processes found: while it says the remote is down, gets go on from local
   * disk without waiting for connecting, which goes on in the background.
   */
  health?: RemoteHealth;
  /**
   * What the remote being unavailable means, for its warning.
   *
   * @default {"building from the local cache alone and retrying in the background"}
   */
  unavailableMeans?: string;
}

/** What a remote that is unavailable means to a go command's build. */
export const BUILDING_LOCALLY =
  "building from the local cache alone and retrying in the background";

/** Where a link stands; see {@linkcode RemoteLink.state}. */
export type LinkState = "connecting" | "up" | "down";

/** Connects to the remote store in the background and decides when it may be used. */
export class RemoteLink implements Counted {
  /** Settles once connecting has succeeded or failed: the store, if its code loaded. */
  readonly connected: Promise<RemoteStore | undefined>;
  #breaker: CircuitBreaker;
  #logger: Logger;
  #clock: Clock;
  #timeoutMillis: number;
  #remote: RemoteStore | undefined;
  #connecting = true;
  /** When connecting started: gets wait for it at most one deadline from then. */
  #startedAt: number;
  /**
   * Settles when connecting settles, or one get deadline after it started, whichever is
   * first. Made by the first get that finds the link still connecting, so that a link
   * that connects before the go command's first get never sets a timer.
   */
  #demandWait: Promise<void> | undefined;
  #probing: Promise<void> | undefined;
  #downWaiters: (() => void)[] = [];
  #upWaiters: (() => void)[] = [];
  #closeWaiters: (() => void)[] = [];
  #closed = false;
  #breakerTrips = 0;
  #health: RemoteHealth | undefined;
  /** Another process found the remote down, and this one has not connected since. */
  #knownDown: boolean;

  /**
   * Starts connecting.
   *
   * @param options The remote store, the clock and the limits.
   */
  constructor(options: RemoteLinkOptions) {
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#startedAt = this.#clock.now();
    this.#timeoutMillis = options.timeoutMillis ?? DEFAULT_REMOTE_TIMEOUT_MILLIS;
    this.#logger = options.logger;
    this.#health = options.health;
    const unavailableMeans = options.unavailableMeans ?? BUILDING_LOCALLY;
    this.#knownDown = options.health?.knownDown() ?? false;
    this.#breaker = new CircuitBreaker({
      cooldownMillis: options.breakerCooldownMillis ?? DEFAULT_BREAKER_COOLDOWN_MILLIS,
      clock: this.#clock,
      onOpen: (reason) => {
        this.#breakerTrips++;
        this.#health?.markDown(reason);
        for (const resolve of this.#downWaiters.splice(0)) resolve();
        this.#logger.warnOnce(
          "remote-down",
          `${this.#where()} is unavailable (${reason}); ${unavailableMeans}`,
        );
      },
      onClose: () => {
        this.#health?.markUp();
        for (const resolve of this.#upWaiters.splice(0)) resolve();
      },
    });
    this.connected = this.#connect(options.remote).finally(() => this.#connecting = false);
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
    // Known down by another process: down until this one has connected.
    if (this.#connecting) return this.#knownDown ? "down" : "connecting";
    return this.#breaker.allows() ? "up" : "down";
  }

  /** Whether the link has been closed: what fails from then on is our own doing. */
  get closed(): boolean {
    return this.#closed;
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
    if (this.#connecting && this.#knownDown) return false;
    if (this.#breaker.allows()) return true;
    if (this.#breaker.shouldProbe()) void this.#probe();
    return false;
  }

  /**
   * Waits for connecting, at most one get deadline from the start, for a get the go
   * command waits on; not at all when another process found the remote down.
   *
   * @returns The remote if it may be asked now, else `undefined`.
   */
  async untilConnectedOrDeadline(): Promise<RemoteStore | undefined> {
    if (this.#connecting && this.#knownDown) return undefined;
    if (this.#connecting) {
      const left = this.#startedAt + this.#timeoutMillis - this.#clock.now();
      if (left > 0) await (this.#demandWait ??= sleep(this.#clock, left, this.connected));
    }
    return this.state === "up" ? this.#remote : undefined;
  }

  /**
   * Waits until the remote may be used, through connecting and, while the breaker is
   * open, through probes, or until the link is closed: for an upload.
   *
   * @returns The remote, or `undefined` once the link is closed or the remote's code
   * could not be loaded.
   */
  async untilUp(): Promise<RemoteStore | undefined> {
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
  untilDown(): Promise<void> {
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
   * it is said once. Work cut off by our own close is no failure at all.
   *
   * @param error What the remote operation threw.
   */
  failed(error: unknown): void {
    if (this.#closed || error instanceof ClosedError) return;
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

  /**
   * Whether connecting or probing is in progress.
   *
   * @returns `true` while either is.
   */
  busy(): boolean {
    return this.#connecting || this.#probing !== undefined;
  }

  /**
   * The link's counters.
   *
   * @returns `breakerTrips`: how many times the breaker opened.
   */
  counters(): Counters {
    return { breakerTrips: this.#breakerTrips };
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

  async #connect(remote: RemoteStore | Promise<RemoteStore>): Promise<RemoteStore | undefined> {
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
    if (!ready && !this.#closed) {
      this.#breaker.recordFailure(store.lastError?.message ?? "it cannot be reached", true);
    } else if (ready && this.#knownDown) {
      this.#knownDown = false;
      this.#health?.markUp();
    }
    return store;
  }

  /** Probes once the breaker has cooled down; settles after the probe, or on close. */
  #probe(): Promise<void> {
    this.#probing ??= (async () => {
      const remote = this.#remote;
      const wait = this.#breaker.cooldownLeft();
      if (wait > 0) await sleep(this.#clock, wait, this.#closing());
      if (remote === undefined || this.#closed || this.#breaker.allows()) return;
      await withDeadline(remote.ping(), this.#timeoutMillis, "probing", this.#clock).then(
        () => this.#breaker.recordSuccess(),
        (error) => {
          if (!this.#closed) this.#breaker.recordFailure(messageOf(error));
        },
      );
    })().finally(() => this.#probing = undefined);
    return this.#probing;
  }

  /** Settles when the link is closed. */
  #closing(): Promise<void> {
    return this.#closed
      ? Promise.resolve()
      : new Promise((resolve) => this.#closeWaiters.push(resolve));
  }
}
