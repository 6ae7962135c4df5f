/**
 * Single flight across the fleet: every process that shares the remote compiles each
 * action once. A get the go command waits on that misses locally asks the remote for the
 * entry and, when there is none, claims the action in the same round trip (a lease, named
 * after this process). Whoever takes the lease answers a miss at once, and the go command
 * compiles and puts; the upload of that put ends the lease. A get that finds another
 * process's lease waits instead of answering a miss: it asks again, with backoff, until
 * the entry appears (a remote hit like any other), the lease ends without one (its owner's
 * build failed or ended: this get takes the lease and compiles), or the wait budget runs
 * out (a miss, and the go command compiles as it would have).
 *
 * Leases follow their owner's life: the leases this process holds are renewed together
 * while it runs, so that a long compile is not taken over, and a process killed with
 * `kill -9` loses them within one lease's lifetime; those still held at close (a compile
 * that failed, an action the go command never put) are ended, so that nobody waits on a
 * build that has ended. A read-only process waits but never claims: it never puts.
 *
 * Nothing here ever fails a get: a remote that fails while a get waits is told to the
 * link (its breaker then opens), and the get is a miss.
 *
 * @module
 */

import type { RemoteEntry, RemoteStore } from "../store.ts";
import type { Counted, Counters } from "../metrics.ts";
import type { TierContext } from "./tier_context.ts";
import { sleep } from "../util/clock.ts";
import { DEFAULT_FLEET_LEASE_MILLIS } from "./defaults.ts";

/** The first pause of a waiting get before it asks again, in milliseconds. */
const FIRST_POLL_MILLIS = 10;

/** The longest pause between two asks of a waiting get, in milliseconds. */
const MAX_POLL_MILLIS = 250;

/** How much longer each pause is than the one before. */
const POLL_BACKOFF = 1.5;

/** Renewals per lease lifetime: a lease survives a few renewals that come late. */
const RENEWALS_PER_LEASE = 5;

/** Options for {@linkcode SingleFlight}. */
export interface SingleFlightOptions {
  /** How long a get may wait for another process's compile, in milliseconds; 0: never. */
  waitMillis: number;
  /**
   * How long a lease lives unless renewed, in milliseconds.
   *
   * @default {5000}
   */
  leaseMillis?: number;
  /** This process's identity in the fleet; a random one unless given. */
  owner?: string;
}

/** Claims actions across the fleet, waits for other processes' compiles, keeps leases. */
export class SingleFlight implements Counted {
  #context: TierContext;
  #waitMillis: number;
  #leaseMillis: number;
  #owner: string;
  /** The actions whose leases this process holds. */
  #held = new Set<string>();
  #waiting = 0;
  #renewing: Promise<void> | undefined;
  /** Releases sent after uploads: close waits for them before the link closes. */
  #releasing = new Set<Promise<void>>();
  #closed = false;
  /** Settles at close, ending the renewals' pause. */
  #closing = Promise.withResolvers<void>();
  #counts = {
    fleetLeasesTaken: 0,
    fleetWaits: 0,
    fleetWaitHits: 0,
    fleetTakeovers: 0,
    fleetWaitsGivenUp: 0,
    fleetWaitMillis: 0,
    fleetPolls: 0,
    fleetLeasesReleased: 0,
    fleetLeasesReleasedAtClose: 0,
    fleetLeasesLost: 0,
  };

  /**
   * Creates the part; it holds no lease until a get takes one.
   *
   * @param context The link, the clock, and whether this process may write.
   * @param options The wait budget, the lease's lifetime, and this process's identity.
   */
  constructor(context: TierContext, options: SingleFlightOptions) {
    this.#context = context;
    this.#waitMillis = options.waitMillis;
    this.#leaseMillis = options.leaseMillis ?? DEFAULT_FLEET_LEASE_MILLIS;
    this.#owner = options.owner ?? crypto.randomUUID();
  }

  /** This process's identity in the fleet, which its leases hold. */
  get owner(): string {
    return this.#owner;
  }

  /**
   * The counters. Leases taken (`fleetLeasesTaken`), and how they ended: released after
   * their upload (`fleetLeasesReleased`), at close (`fleetLeasesReleasedAtClose`), or
   * found expired at a renewal (`fleetLeasesLost`). Gets that found another process's
   * lease (`fleetWaits`) each end in exactly one of `fleetWaitHits` (its entry appeared),
   * `fleetTakeovers` (its lease ended without one: this process compiles) and
   * `fleetWaitsGivenUp` (the budget ran out, or the remote failed: a miss).
   * `fleetWaitMillis` is the time they waited, `fleetPolls` the round trips they added.
   *
   * @returns The counters.
   */
  counters(): Counters {
    return { ...this.#counts };
  }

  /**
   * Whether gets of this remote go through leases: waiting is allowed, and the remote
   * keeps leases.
   *
   * @param remote The remote.
   * @returns `true` when they do.
   */
  appliesTo(remote: RemoteStore): boolean {
    return this.#waitMillis > 0 && remote.getOrClaim !== undefined;
  }

  /**
   * Whether a get is waiting or a lease is held: the leases' renewals need the event loop.
   *
   * @returns `true` while either is.
   */
  busy(): boolean {
    return this.#waiting > 0 || this.#held.size > 0;
  }

  /**
   * Whether this process holds an action's lease.
   *
   * @param actionId The ActionID in hex.
   * @returns `true` if it does.
   */
  holds(actionId: string): boolean {
    return this.#held.has(actionId);
  }

  /**
   * Fetches an entry for a get the go command waits on, through the action's lease: the
   * entry if the remote has it, or once another process that holds the lease has put it;
   * else `undefined` (a miss), holding the lease when this process may take it.
   *
   * @param remote The remote, which keeps leases (see {@linkcode SingleFlight.appliesTo}).
   * @param actionId The ActionID in hex.
   * @returns The entry, or `undefined` for a miss.
   * @throws What the remote throws (the caller tells the link).
   */
  async get(remote: RemoteStore, actionId: string): Promise<RemoteEntry | undefined> {
    const { link, clock, readOnly } = this.#context;
    const claim = readOnly
      ? { owner: this.#owner }
      : { owner: this.#owner, leaseMillis: this.#leaseMillis };
    const first = await remote.getOrClaim!(actionId, claim);
    if (first.entry !== undefined) return first.entry;
    if (first.holder === undefined) return undefined; // nobody compiles it: look-only
    if (first.holder === this.#owner) return this.#taken(actionId, false);
    // Another process compiles it: wait for its entry, within the budget.
    const counts = this.#counts;
    counts.fleetWaits++;
    this.#waiting++;
    const started = clock.now();
    let pause = FIRST_POLL_MILLIS;
    try {
      for (;;) {
        const left = started + this.#waitMillis - clock.now();
        if (left <= 0 || this.#closed || !link.allows()) {
          counts.fleetWaitsGivenUp++;
          return undefined;
        }
        // No wake-up at close: the go command closes only once every get is answered.
        await sleep(clock, Math.min(pause, left));
        pause = Math.min(pause * POLL_BACKOFF, MAX_POLL_MILLIS);
        if (this.#closed || !link.allows()) continue;
        counts.fleetPolls++;
        let found;
        try {
          found = await remote.getOrClaim!(actionId, claim);
        } catch (error) {
          counts.fleetWaitsGivenUp++;
          throw error;
        }
        if (found.entry !== undefined) {
          counts.fleetWaitHits++;
          return found.entry;
        }
        if (found.holder === this.#owner) return this.#taken(actionId, true);
        if (found.holder === undefined) {
          // The lease ended without an entry, and this process may not take it.
          counts.fleetTakeovers++;
          return undefined;
        }
      }
    } finally {
      this.#waiting--;
      counts.fleetWaitMillis += clock.now() - started;
    }
  }

  /**
   * Ends the lease of an action whose upload has finished (or could not be made): whoever
   * waits on it finds the entry, or takes the lease and compiles.
   *
   * @param actionId The ActionID in hex.
   */
  finished(actionId: string): void {
    if (!this.#held.delete(actionId)) return;
    const remote = this.#context.link.remote;
    if (remote?.releaseLeases === undefined) return;
    this.#counts.fleetLeasesReleased++;
    const release = remote.releaseLeases([actionId], this.#owner).catch(() => {
      // It expires within one lifetime; a failing remote is the upload's to tell.
    }).finally(() => this.#releasing.delete(release));
    this.#releasing.add(release);
  }

  /**
   * Stops renewing, and ends every lease still held, so that nobody waits on this
   * process's build once it has ended.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.resolve();
    await this.#renewing;
    await Promise.all(this.#releasing);
    const actionIds = [...this.#held];
    this.#held.clear();
    const remote = this.#context.link.remote;
    if (actionIds.length === 0 || remote?.releaseLeases === undefined) return;
    if (!this.#context.link.allows()) return; // they expire within one lifetime
    try {
      await remote.releaseLeases(actionIds, this.#owner);
      this.#counts.fleetLeasesReleasedAtClose += actionIds.length;
    } catch {
      // Expired within one lifetime, as a killed process's are.
    }
  }

  /** Records a lease taken, and keeps it renewed; the get is a miss. */
  #taken(actionId: string, afterWait: boolean): undefined {
    if (afterWait) this.#counts.fleetTakeovers++;
    this.#counts.fleetLeasesTaken++;
    this.#held.add(actionId);
    this.#renewing ??= this.#renewWhileHeld().finally(() => this.#renewing = undefined);
    return undefined;
  }

  /** Renews every lease held, together, a few times per lifetime, while any is held. */
  async #renewWhileHeld(): Promise<void> {
    const { link, clock } = this.#context;
    while (this.#held.size > 0 && !this.#closed) {
      await sleep(clock, this.#leaseMillis / RENEWALS_PER_LEASE, this.#closing.promise);
      const remote = link.remote;
      if (this.#closed || remote?.renewLeases === undefined || !link.allows()) continue;
      const actionIds = [...this.#held];
      if (actionIds.length === 0) break;
      try {
        const kept = await remote.renewLeases(actionIds, this.#owner, this.#leaseMillis);
        link.succeeded();
        actionIds.forEach((actionId, index) => {
          // Not ours any more: it expired (this process was stalled) and may be taken.
          if (!kept[index] && this.#held.delete(actionId)) this.#counts.fleetLeasesLost++;
        });
      } catch (error) {
        link.failed(error);
      }
    }
  }
}
