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
import { readEnvIfGranted } from "../permissions.ts";
import { GO_ENV_VARIABLES } from "../../tiered/build_env.ts";
import { messageOf } from "../../errors.ts";

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
  const env = await toolchainEnv(context);
  if (env === undefined) return 0;
  const store = await openRemoteBackedStore({
    config: context.config,
    dir: context.dir,
    remote: context.remote,
    logger: new Logger(),
    env,
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

/**
 * The environment the manifests are named from. The go command gives the program it
 * starts its toolchain and target (`GOVERSION`, `GOOS`, ...), and manifests are kept
 * apart by them; a prefetch step runs outside the go command, so it asks `go env`.
 *
 * @returns The reader, or `undefined` (having said why) when the toolchain is unknown.
 */
async function toolchainEnv(
  context: CommandContext,
): Promise<((name: string) => string | undefined) | undefined> {
  if (readEnvIfGranted("GOVERSION") !== undefined) return readEnvIfGranted;
  let go: Record<string, string>;
  try {
    go = await context.goEnv(GO_ENV_VARIABLES);
  } catch (error) {
    context.error(
      `nothing prefetched: the Go toolchain the build uses is unknown (${
        messageOf(error).split("\n")[0]
      }): run the step once Go is set up, granted --allow-run=go (or with GOVERSION, GOOS ` +
        "and GOARCH set)",
    );
    return undefined;
  }
  return (name) => readEnvIfGranted(name) ?? (go[name] || undefined);
}
