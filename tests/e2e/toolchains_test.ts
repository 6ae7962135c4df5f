/**
 * A matrix over Go versions sharing one Redis: each version's builds keep manifests of
 * their own, named from the toolchain the go command gives the program, so no entry of
 * the matrix prefetches another's (each would download what it never uses). Go 1.27.3
 * is fetched from the module proxy (`GOTOOLCHAIN`) the first time.
 */
import assert from "node:assert/strict";
import { assertBuilt } from "../support/builds.ts";
import { runGo } from "../support/go.ts";
import { redisGocacheprog } from "../support/program.ts";
import { startRedis } from "../support/redis_server.ts";
import { tempDir } from "../support/tools.ts";

/** The Go the machine has, and the newer one a matrix adds. */
const LOCAL = "local";
const NEWER = "go1.27.3";

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
  let runs = 0;
  const build = async (toolchain: string) => {
    const gocache = `${work.path}/cache-${runs++}`;
    const result = await runGo(["build", "./p"], {
      cwd: module,
      gocache,
      gocacheprog: redisGocacheprog(gocache, redis.port, [
        "--manifest",
        "--manifest-scope",
        "ref:main",
        "--build-type",
        "matrix",
      ]),
      // The newer toolchain comes from the module proxy the first time.
      env: {
        GOTOOLCHAIN: toolchain,
        GOPROXY: Deno.env.get("GOPROXY") ?? "https://proxy.golang.org",
      },
    });
    assertBuilt(result, `go build on ${toolchain}`);
    const prefetched = /prefetched (\d+) of (\d+)/.exec(result.stderr);
    assert.ok(prefetched !== null, result.stderr);
    return { planned: Number(prefetched[2]), fetched: Number(prefetched[1]) };
  };
  assert.deepEqual(await build(LOCAL), { planned: 0, fetched: 0 }, "the first build: nothing yet");
  assert.deepEqual(
    await build(NEWER),
    { planned: 0, fetched: 0 },
    "the newer Go: not the local one's",
  );
  const again = await build(LOCAL);
  assert.ok(again.planned > 0 && again.fetched === again.planned, "the local Go: its own manifest");
  const newerAgain = await build(NEWER);
  assert.ok(newerAgain.planned > 0, "the newer Go: its own manifest, written by its first build");
});
