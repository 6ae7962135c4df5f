/**
 * The shared parts of a remote tier (a disk store, a link to a remote, a captured logger
 * and a fake clock), for the tests of each part on its own, and a whole remote-backed
 * store over them.
 *
 * @module
 */

import { DiskStore } from "../../src/local/disk_store.ts";
import { RemoteLink } from "../../src/tiered/remote_link.ts";
import type { TierContext } from "../../src/tiered/tier_context.ts";
import {
  RemoteBackedStore,
  type RemoteBackedStoreOptions,
} from "../../src/tiered/remote_backed_store.ts";
import type { RemoteStore } from "../../src/store.ts";
import { type CapturedLogger, captureLogger } from "./logger.ts";
import { FakeClock } from "./fake_clock.ts";
import { MemoryRemoteStore } from "./memory_remote_store.ts";
import type { Clock } from "../../src/util/clock.ts";

/** The remote's own fake clock, when it has one, so that the test and the tier share it. */
function clockFor(remote: RemoteStore): FakeClock {
  return remote instanceof MemoryRemoteStore && remote.clock instanceof FakeClock
    ? remote.clock
    : new FakeClock();
}

/** A remote tier's shared parts, with the test's handles on them. */
export interface TierParts extends TierContext {
  /** The local store, in a directory of the caller's. */
  local: DiskStore;
  /** The logger's lines. */
  log: CapturedLogger;
  /** The clock every part waits on. */
  clock: FakeClock;
}

/** The deadline the tier's parts are given in these tests, in milliseconds. */
export const TIER_TIMEOUT_MILLIS = 50;

/**
 * Opens a disk store in `dir` and connects a link to `remote`, on a fake clock.
 *
 * @param dir The local store's directory.
 * @param remote The remote.
 * @param options The clock (the in-memory remote's unless given), and read-only mode.
 * @returns The parts, once the link has connected (or failed to).
 */
export async function tierParts(
  dir: string,
  remote: RemoteStore,
  options: { clock?: FakeClock; readOnly?: boolean } = {},
): Promise<TierParts> {
  const log = captureLogger();
  const clock = options.clock ?? clockFor(remote);
  const link = new RemoteLink({
    remote,
    logger: log.logger,
    clock,
    timeoutMillis: TIER_TIMEOUT_MILLIS,
  });
  await link.connected;
  return {
    local: await DiskStore.open(dir),
    link,
    logger: log.logger,
    log,
    clock,
    readOnly: options.readOnly ?? false,
  };
}

/**
 * A remote-backed store over a disk store in `dir`, with short deadlines, on the
 * in-memory remote's fake clock unless a clock is given (a real Redis needs the system's).
 *
 * @param dir The local store's directory.
 * @param remote The remote.
 * @param options More options.
 * @returns The store, its captured logger and its clock.
 */
export async function remoteBackedStore<C extends Clock = FakeClock>(
  dir: string,
  remote: RemoteStore,
  options: Partial<Omit<RemoteBackedStoreOptions, "clock">> & { clock?: C } = {},
): Promise<{ store: RemoteBackedStore; log: CapturedLogger; clock: C }> {
  const log = captureLogger();
  const clock = options.clock ?? (clockFor(remote) as Clock as C);
  const store = new RemoteBackedStore({
    local: await DiskStore.open(dir),
    remote,
    logger: log.logger,
    timeoutMillis: TIER_TIMEOUT_MILLIS,
    uploadWaitMillis: 1000,
    ...options,
    clock,
  });
  return { store, log, clock };
}
