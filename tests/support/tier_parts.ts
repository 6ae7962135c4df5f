/**
 * The shared parts of a remote tier (a disk store, a link to a remote, counters and a
 * captured logger), for the tests of each part on its own, and a whole
 * remote-backed store over them.
 *
 * @module
 */

import { DiskStore } from "../../src/local/disk_store.ts";
import { RemoteLink } from "../../src/tiered/remote_link.ts";
import { TierMetrics } from "../../src/tiered/tier_metrics.ts";
import {
  RemoteBackedStore,
  type RemoteBackedStoreOptions,
} from "../../src/tiered/remote_backed_store.ts";
import type { RemoteStore } from "../../src/store.ts";
import type { Logger } from "../../src/util/log.ts";
import { type CapturedLogger, captureLogger } from "./memory_remote_store.ts";

/** A remote tier's shared parts. */
export interface TierParts {
  /** The local store, in a directory of the caller's. */
  local: DiskStore;
  /** The link to the remote, connected. */
  link: RemoteLink;
  /** The counters. */
  metrics: TierMetrics;
  /** The logger the parts write to. */
  logger: Logger;
  /** The same logger's lines. */
  log: CapturedLogger;
}

/**
 * Opens a disk store in `dir` and connects a link to `remote`.
 *
 * @param dir The local store's directory.
 * @param remote The remote.
 * @returns The parts, once the link has connected (or failed to).
 */
export async function tierParts(dir: string, remote: RemoteStore): Promise<TierParts> {
  const log = captureLogger();
  const metrics = new TierMetrics();
  const link = new RemoteLink({ remote, logger: log.logger, metrics, timeoutMillis: 50 });
  await link.connected;
  return { local: await DiskStore.open(dir), link, metrics, logger: log.logger, log };
}

/**
 * A remote-backed store over a disk store in `dir`, with short deadlines.
 *
 * @param dir The local store's directory.
 * @param remote The remote.
 * @param options More options.
 * @returns The store and its captured logger.
 */
export async function remoteBackedStore(
  dir: string,
  remote: RemoteStore,
  options: Partial<RemoteBackedStoreOptions> = {},
): Promise<{ store: RemoteBackedStore; log: CapturedLogger }> {
  const log = captureLogger();
  const store = new RemoteBackedStore({
    local: await DiskStore.open(dir),
    remote,
    logger: log.logger,
    timeoutMillis: 50,
    uploadWaitMillis: 1000,
    ...options,
  });
  return { store, log };
}
