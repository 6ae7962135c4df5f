/**
 * The seed, the Go program this project replaces (yonesko/gocacheprog v1.3.0), built
 * from source for the benchmark: with `go install` where the module proxy serves it,
 * else from a directory named by `--seed-dir` or `GOCACHEPROG_SEED_DIR` (copied to a
 * temporary directory first: the original may be read-only). It is run beside this
 * program, never copied from.
 *
 * @module
 */

import { runCommand } from "../support/process.ts";

/** The seed's module and version. */
const SEED_MODULE = "github.com/yonesko/gocacheprog@v1.3.0";

/** The seed binary, or why there is none. */
export type SeedBuild = { binary: string; from: string } | { binary?: undefined; reason: string };

/**
 * Builds the seed.
 *
 * @param workDir A directory for the build.
 * @param sourceDir The seed's source, if the module proxy does not serve it.
 * @returns The binary and where it came from, or why there is none.
 */
export async function buildSeed(
  workDir: string,
  sourceDir: string | undefined,
): Promise<SeedBuild> {
  const bin = `${workDir}/seed-bin`;
  const env = {
    GOBIN: bin,
    GOFLAGS: "-mod=mod",
    GOTOOLCHAIN: "local",
    GOCACHE: `${workDir}/seed-build-cache`,
  };
  const installed = await runCommand(["go", "install", SEED_MODULE], { env, cwd: workDir });
  if (installed.code === 0) return { binary: `${bin}/gocacheprog`, from: "the Go module proxy" };
  if (sourceDir === undefined) {
    return {
      reason: `the module proxy does not serve ${SEED_MODULE}, and no --seed-dir or ` +
        "GOCACHEPROG_SEED_DIR names its source",
    };
  }
  const copy = `${workDir}/seed-src`;
  const copied = await runCommand(["cp", "-r", sourceDir, copy]);
  if (copied.code !== 0) return { reason: `cannot copy ${sourceDir}: ${copied.stderr.trim()}` };
  await runCommand(["chmod", "-R", "u+w", copy]);
  const built = await runCommand(["go", "build", "-o", `${bin}/gocacheprog`, "."], {
    env,
    cwd: copy,
  });
  if (built.code !== 0) return { reason: `building ${sourceDir} failed: ${built.stderr.trim()}` };
  return { binary: `${bin}/gocacheprog`, from: sourceDir };
}

/**
 * The seed's GOCACHEPROG value: its own directory (it does not use the go command's
 * layout) and, as a new user would give it, a Redis address. With no Redis it is given a
 * refused one, as on a machine with no Redis: left empty it would try localhost:6379.
 *
 * @param binary The seed binary.
 * @param dir Its cache directory.
 * @param redisPort Its Redis on 127.0.0.1; a port nothing listens on for local only.
 * @returns The value.
 */
export function seedGocacheprog(binary: string, dir: string, redisPort: number): string {
  return `${binary} -dir ${dir} -r-urls 127.0.0.1:${redisPort}`;
}
