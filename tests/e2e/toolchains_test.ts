/**
 * A matrix over Go versions sharing one Redis: each version's builds keep manifests of
 * their own, named from the toolchain the go command gives the program, so no entry of
 * the matrix prefetches another's (each would download what it never uses). Go 1.27.3
 * is fetched from the module proxy (`GOTOOLCHAIN`) the first time.
 *
 * What each version would prefetch is read with the prefetch step, which learns the
 * toolchain from `go env` as the build does and waits for its prefetch to finish: a
 * one-package build can finish before its own manifest read returns, so the counts a
 * build prints say nothing certain about which manifest it found.
 */
import assert from "node:assert/strict";
import { assertBuilt } from "../support/builds.ts";
import { runGo } from "../support/go.ts";
import { prefetchStepCounts, redisGocacheprog, runPrefetchStep } from "../support/program.ts";
import { startRedis } from "../support/redis_server.ts";
import { tempDir } from "../support/tools.ts";

/** The Go the machine has, and the newer one a matrix adds. */
const LOCAL = "local";
const NEWER = "go1.27.3";

const SCOPE = ["--manifest-scope", "ref:main", "--build-type", "matrix"];

Deno.test("a Go-version matrix never prefetches the other version's manifest", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  // A package with no imports: one compile, on any Go, with an empty cache.
  const module = `${work.path}/module`;
  await Deno.mkdir(`${module}/p`, { recursive: true });
  await Deno.writeTextFile(`${module}/go.mod`, "module tiny\n\ngo 1.24\n");
  await Deno.writeTextFile(
    `${module}/p/p.go`,
    "package p\n\n// Double doubles.\nfunc Double(x int) int { return 2 * x }\n",
  );
  let caches = 0;
  const freshCache = () => `${work.path}/cache-${caches++}`;
  const toolchainEnv = (toolchain: string) => ({
    GOTOOLCHAIN: toolchain,
    // The newer toolchain comes from the module proxy the first time.
    GOPROXY: Deno.env.get("GOPROXY") ?? "https://proxy.golang.org",
  });
  /** A build on a fresh cache, which writes its toolchain's manifest. */
  const build = async (toolchain: string) => {
    const gocache = freshCache();
    const result = await runGo(["build", "./p"], {
      cwd: module,
      gocache,
      gocacheprog: redisGocacheprog(gocache, redis.port, ["--manifest", ...SCOPE]),
      env: toolchainEnv(toolchain),
    });
    assertBuilt(result, `go build on ${toolchain}`);
  };
  /** How many entries the prefetch step fetches into a fresh cache for this toolchain. */
  const prefetched = async (toolchain: string) => {
    const step = await runPrefetchStep(freshCache(), redis.port, SCOPE, {
      cwd: module,
      env: toolchainEnv(toolchain),
    });
    assert.equal(step.code, 0, step.stderr);
    const counts = prefetchStepCounts(step.stdout);
    assert.ok(counts !== undefined, `${step.stdout}${step.stderr}`);
    assert.equal(counts.fetched, counts.planned, step.stdout);
    return counts.fetched;
  };

  await build(LOCAL);
  assert.equal(await prefetched(NEWER), 0, "the newer Go: not the local one's manifest");
  assert.ok(await prefetched(LOCAL) > 0, "the local Go: its own manifest");
  await build(NEWER);
  assert.ok(await prefetched(NEWER) > 0, "the newer Go: its own manifest, written by its build");
});
