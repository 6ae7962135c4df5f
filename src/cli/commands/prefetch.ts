/**
 * `gocacheprog prefetch`: fills the local store from Redis with what the build
 * manifests list (the same manifests, budget and verification as a go command's own
 * prefetch), then exits. Run at the start of a CI job, in the background while the job
 * checks out and sets up, it takes the transfer and the file writes out of the build: a
 * go command started after it finds the entries local. It never fails a job: an
 * unreachable Redis or a missing manifest is reported, and the status is still 0.
 *
 * @module
 */

import type { CommandContext } from "./context.ts";
import { openRemoteBackedStore } from "../open_store.ts";
import { Logger } from "../../util/log.ts";
import { formatBytes, formatMillis } from "../../util/format.ts";

/**
 * Runs the prefetch and says what it did.
 *
 * @param context The configuration and the printer; the configuration names Redis.
 * @returns The exit status: 0.
 */
export async function runPrefetch(context: CommandContext): Promise<number> {
  const started = performance.now();
  if (context.remote === undefined) {
    context.print(
      context.remoteProblem === undefined
        ? "nothing prefetched: no Redis configured"
        : `nothing prefetched: Redis cannot be used (${context.remoteProblem})`,
    );
    return 0;
  }
  const store = await openRemoteBackedStore({
    config: context.config,
    dir: context.dir,
    remote: context.remote,
    logger: new Logger(),
  }, { recordManifest: false, servesGoCommand: false });
  const outcome = await store.prefetchFinished();
  await store.close();
  const took = formatMillis(performance.now() - started);
  context.print(
    !outcome.remoteAvailable
      ? `nothing prefetched: Redis is unavailable (${took})`
      : outcome.planned === 0
      ? `nothing to prefetch (no build manifest for this build type and scope, or all of it is local) in ${took}`
      : `prefetched ${outcome.fetched} of the ${outcome.planned} manifest entries ` +
        `missing locally (${formatBytes(outcome.fetchedBytes)}) in ${took}`,
  );
  return 0;
}
