/**
 * An in-memory {@linkcode RemoteStore}, so that the remote tier's logic (joins, the
 * breaker, queue bounds, companions, prefetch order) is tested without a server, with
 * faults on demand: refused, frozen (each operation fails with a `DeadlineError` after
 * its deadline, as the store contract says), full, slow, or held until released. Its
 * time is a clock's (a fake one unless given), so that no test waits real time. It
 * records every call, so that tests can assert what reached the remote.
 *
 * @module
 */

import type {
  ClaimedGet,
  LeaseClaim,
  ManifestWrite,
  RemoteEntry,
  RemoteGetOptions,
  RemoteStore,
  RemoteUpload,
} from "../../src/store.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import {
  ClosedError,
  DeadlineError,
  EntryTooLargeError,
  RemoteFullError,
  RemoteUnavailableError,
} from "../../src/errors.ts";
import { type Clock, sleep } from "../../src/util/clock.ts";
import { FakeClock } from "./fake_clock.ts";

/** How the fake remote misbehaves. */
export type RemoteFault = "refused" | "frozen" | "full";

/** One call that reached the store. */
export interface RemoteCall {
  /** The method. */
  method:
    | "get"
    | "getOrClaim"
    | "renewLeases"
    | "releaseLeases"
    | "has"
    | "put"
    | "delete"
    | "readManifests"
    | "writeManifest"
    | "ping";
  /** The ActionID or manifest name. */
  key: string;
  /** Whether a get was background work. */
  background?: boolean;
}

/** Options for {@linkcode MemoryRemoteStore}. */
export interface MemoryRemoteStoreOptions {
  /** The deadline a frozen store fails at, in milliseconds (default 50). */
  timeoutMillis?: number;
  /** Added to every operation, in milliseconds (default 0). */
  latencyMillis?: number;
  /** Whether `ready()` says it is usable (default true). */
  ready?: boolean | Promise<boolean>;
  /** The clock latency and deadlines are measured on; a fake clock of its own unless given. */
  clock?: Clock;
}

/** A remote store in a `Map`, with faults on demand. */
export class MemoryRemoteStore implements RemoteStore {
  readonly description = "memory remote";
  /** What the store holds, by ActionID. */
  readonly entries: Map<string, RemoteEntry> = new Map();
  /** Manifests, by name. */
  readonly manifests: Map<string, Uint8Array> = new Map();
  /** Leases, by ActionID: their owner, and when they expire on the store's clock. */
  readonly leases: Map<string, { owner: string; expiresAt: number }> = new Map();
  /** Every call, in order. */
  readonly calls: RemoteCall[] = [];
  /** The current fault, if any. */
  fault: RemoteFault | undefined;
  lastError: Error | undefined;
  /** The clock its latency and its deadline are measured on. */
  readonly clock: Clock;
  #timeoutMillis: number;
  #latencyMillis: number;
  #ready: boolean | Promise<boolean>;
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;
  #closed = false;
  /** Counts closes: an operation in flight across one fails, as a real store's would. */
  #closes = 0;
  #callWaiters: { method: RemoteCall["method"]; resolve: () => void }[] = [];

  /**
   * Creates an empty store.
   *
   * @param options Its deadline, latency and readiness.
   */
  constructor(options: MemoryRemoteStoreOptions = {}) {
    this.#timeoutMillis = options.timeoutMillis ?? 50;
    this.#latencyMillis = options.latencyMillis ?? 0;
    this.#ready = options.ready ?? true;
    this.clock = options.clock ?? new FakeClock();
  }

  /** Holds every operation until {@linkcode MemoryRemoteStore.release} is called. */
  hold(): void {
    this.#held ??= new Promise((resolve) => this.#release = resolve);
  }

  /** Lets held operations go on. */
  release(): void {
    this.#release?.();
    this.#held = undefined;
    this.#release = undefined;
  }

  /**
   * The calls of one method.
   *
   * @param method The method.
   * @returns Its calls, in order.
   */
  callsOf(method: RemoteCall["method"]): RemoteCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /**
   * Settles once a call of this method has reached the store (at once if one has).
   *
   * @param method The method.
   * @returns A promise that settles on that call.
   */
  untilCalled(method: RemoteCall["method"]): Promise<void> {
    if (this.callsOf(method).length > 0) return Promise.resolve();
    return new Promise((resolve) => this.#callWaiters.push({ method, resolve }));
  }

  /** Whether `close()` was called (the store may still be used after: as by a new session). */
  get closed(): boolean {
    return this.#closed;
  }

  async ready(): Promise<boolean> {
    const ready = await this.#ready;
    if (!ready) this.lastError = new RemoteUnavailableError("memory remote refused");
    return ready;
  }

  async get(actionId: string, options?: RemoteGetOptions): Promise<RemoteEntry | undefined> {
    await this.#operate({ method: "get", key: actionId, background: options?.background ?? false });
    const entry = this.entries.get(actionId);
    if (entry === undefined) return undefined;
    if (options?.maxBytes !== undefined && entry.size > options.maxBytes) {
      throw new EntryTooLargeError(entry.size, options.maxBytes);
    }
    return { ...entry, body: entry.body.slice() };
  }

  async getOrClaim(actionId: string, claim: LeaseClaim): Promise<ClaimedGet> {
    await this.#operate({ method: "getOrClaim", key: actionId });
    const entry = this.entries.get(actionId);
    if (entry !== undefined) return { entry: { ...entry, body: entry.body.slice() } };
    const now = this.clock.now();
    const lease = this.leases.get(actionId);
    if (lease !== undefined && lease.expiresAt > now) {
      return { entry: undefined, holder: lease.owner };
    }
    if (claim.leaseMillis === undefined) return { entry: undefined, holder: undefined };
    this.leases.set(actionId, { owner: claim.owner, expiresAt: now + claim.leaseMillis });
    return { entry: undefined, holder: claim.owner };
  }

  async renewLeases(
    actionIds: readonly string[],
    owner: string,
    leaseMillis: number,
  ): Promise<boolean[]> {
    await this.#operate({ method: "renewLeases", key: actionIds.join(",") });
    const now = this.clock.now();
    return actionIds.map((actionId) => {
      const lease = this.leases.get(actionId);
      if (lease === undefined || lease.owner !== owner || lease.expiresAt <= now) return false;
      lease.expiresAt = now + leaseMillis;
      return true;
    });
  }

  async releaseLeases(actionIds: readonly string[], owner: string): Promise<void> {
    await this.#operate({ method: "releaseLeases", key: actionIds.join(",") });
    for (const actionId of actionIds) {
      if (this.leases.get(actionId)?.owner === owner) this.leases.delete(actionId);
    }
  }

  async has(actionId: string, outputId: string): Promise<boolean> {
    await this.#operate({ method: "has", key: actionId });
    return this.entries.get(actionId)?.outputId === outputId;
  }

  async put(actionId: string, entry: RemoteUpload): Promise<void> {
    await this.#operate({ method: "put", key: actionId });
    if (this.fault === "full") throw new RemoteFullError("OOM command not allowed (memory remote)");
    const { body, ...rest } = entry;
    this.entries.set(actionId, { ...rest, body: await body.read(0, body.size) });
  }

  async delete(actionId: string): Promise<void> {
    await this.#operate({ method: "delete", key: actionId });
    this.entries.delete(actionId);
  }

  async readManifests(names: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    await this.#operate({ method: "readManifests", key: names.join(",") });
    return names.map((name) => this.manifests.get(name));
  }

  async writeManifest(name: string, manifest: ManifestWrite): Promise<void> {
    await this.#operate({ method: "writeManifest", key: name });
    const old = this.manifests.get(name);
    const sameJob = old !== undefined &&
      old.subarray(8, 24).toHex() === manifest.jobHash.slice(0, 32);
    const parts = sameJob ? [old, manifest.records] : [manifest.header, manifest.records];
    this.manifests.set(name, concatBytes(parts, parts.reduce((sum, part) => sum + part.length, 0)));
  }

  async ping(): Promise<void> {
    await this.#operate({ method: "ping", key: "" });
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#closes++;
    this.release();
    return Promise.resolve();
  }

  /** Records a call, then applies the latency, the hold and the fault. */
  async #operate(call: RemoteCall): Promise<void> {
    this.calls.push(call);
    this.#callWaiters = this.#callWaiters.filter((waiter) =>
      waiter.method === call.method ? (waiter.resolve(), false) : true
    );
    const closes = this.#closes;
    if (this.#latencyMillis > 0) await sleep(this.clock, this.#latencyMillis);
    await this.#held;
    if (this.#closes !== closes) throw new ClosedError("memory remote was closed");
    if (this.fault === "refused") {
      throw new RemoteUnavailableError("memory remote is not connected (refused)");
    }
    if (this.fault === "frozen") {
      await sleep(this.clock, this.#timeoutMillis);
      throw new DeadlineError(call.method, this.#timeoutMillis);
    }
  }
}
