/**
 * End to end with the real go command: GOCACHEPROG set to this program, run from the
 * checkout with the README's permission flags, reading the directory from $GOCACHE.
 */
import assert from "node:assert/strict";
import { assertBuilt, FIXTURE_PACKAGES } from "../support/builds.ts";
import { compiledPackages, freshGoCache, goWorkspace, runGo } from "../support/go.ts";
import { gocacheprogValue, programArgv } from "../support/program.ts";

function program(gocache: string, args: string[] = []): string {
  return gocacheprogValue(programArgv({ dir: gocache, passDir: false, args }));
}

Deno.test("go build through gocacheprog: the second build compiles nothing, and the go command's own cache shares what either stored", async (t) => {
  await using work = await goWorkspace("gocacheprog-e2e-");
  const { dir, module, gocache } = work;
  await t.step("a build through gocacheprog twice: the second compiles nothing", async () => {
    const first = await runGo(["build", "-x", "./..."], {
      cwd: module,
      gocache,
      gocacheprog: program(gocache),
    });
    assertBuilt(first, "first build");
    assert.deepEqual(compiledPackages(first.stderr), FIXTURE_PACKAGES);
    const second = await runGo(["build", "-x", "./..."], {
      cwd: module,
      gocache,
      gocacheprog: program(gocache, ["--log-metrics"]),
    });
    assertBuilt(second, "second build");
    assert.deepEqual(compiledPackages(second.stderr), []);
    // Linking cmd/app still makes a lookup of its own; what matters is that nothing compiles.
    const summary = /gocacheprog: (\d+) gets \((\d+) hits, (\d+) misses, 0 errors\)/.exec(
      second.stderr,
    );
    assert.ok(summary !== null, second.stderr);
    assert.ok(Number(summary[2]) > 100 && Number(summary[3]) <= 2, summary[0]);
  });
  await t.step("what gocacheprog stored, the go command's own cache reuses", async () => {
    const native = await runGo(["build", "-x", "./..."], { cwd: module, gocache });
    assertBuilt(native, "native build");
    assert.deepEqual(compiledPackages(native.stderr), [], "native build after the program");
  });
  await t.step("what the go command stored, gocacheprog reuses", async () => {
    const other = await freshGoCache(dir, "other");
    assertBuilt(await runGo(["build", "./..."], { cwd: module, gocache: other }), "native build");
    const viaProgram = await runGo(["build", "-x", "./..."], {
      cwd: module,
      gocache: other,
      gocacheprog: program(other),
    });
    assertBuilt(viaProgram, "program build after native");
    assert.deepEqual(compiledPackages(viaProgram.stderr), [], "program build after the native one");
  });
});

Deno.test("go test twice shows (cached); after go clean -testcache the tests run again", async () => {
  await using work = await goWorkspace("gocacheprog-e2e-");
  const { module, gocache } = work;
  // GODEBUG is one of a test's inputs, so every run sets the same value.
  const options = {
    cwd: module,
    gocache,
    gocacheprog: program(gocache),
    env: { GODEBUG: "gocachetest=1" },
  };
  const first = await runGo(["test", "./..."], options);
  assertBuilt(first, "first go test");
  assert.doesNotMatch(first.stdout, /\(cached\)/);
  const second = await runGo(["test", "./..."], options);
  assertBuilt(second, "second go test");
  assert.match(second.stdout, /ok\s+example\.com\/fixture\/lib\s+\(cached\)/);
  assert.match(second.stdout, /ok\s+example\.com\/fixture\/mathx\s+\(cached\)/);
  assertBuilt(await runGo(["clean", "-testcache"], options), "go clean -testcache");
  const third = await runGo(["test", "./..."], options);
  assertBuilt(third, "third go test");
  assert.doesNotMatch(third.stdout, /\(cached\)/);
  assert.match(third.stderr, /expired due to go clean -testcache/);
});

Deno.test("go build -o out.a of a library twice: the stored output survives", async () => {
  await using work = await goWorkspace("gocacheprog-e2e-");
  const { dir, module, gocache } = work;
  const gocacheprog = program(gocache);
  for (const round of [1, 2]) {
    const result = await runGo(["build", "-o", `${dir}/out${round}.a`, "./lib"], {
      cwd: module,
      gocache,
      gocacheprog,
    });
    assertBuilt(result, `build -o, round ${round}`);
    assert.ok((await Deno.stat(`${dir}/out${round}.a`)).size > 0);
  }
  const again = await runGo(["build", "-x", "./lib"], { cwd: module, gocache, gocacheprog });
  assertBuilt(again, "build after -o");
  assert.deepEqual(
    compiledPackages(again.stderr),
    [],
    "the cached archive was copied, not moved away",
  );
});

Deno.test("two go builds at the same time share one directory safely", async () => {
  await using work = await goWorkspace("gocacheprog-e2e-");
  const { module, gocache } = work;
  const gocacheprog = program(gocache);
  const builds = await Promise.all([
    runGo(["build", "./..."], { cwd: module, gocache, gocacheprog }),
    runGo(["vet", "./..."], { cwd: module, gocache, gocacheprog }),
    runGo(["build", "./..."], { cwd: module, gocache, gocacheprog }),
  ]);
  builds.forEach((result, i) => assertBuilt(result, `concurrent go command ${i}`));
  const after = await runGo(["build", "-x", "./..."], { cwd: module, gocache, gocacheprog });
  assertBuilt(after, "build after the concurrent ones");
  assert.deepEqual(compiledPackages(after.stderr), []);
  const leftovers = [];
  for await (const shard of Deno.readDir(gocache)) {
    if (!shard.isDirectory) continue;
    for await (const file of Deno.readDir(`${gocache}/${shard.name}`)) {
      if (file.name.includes(".tmp-")) leftovers.push(file.name);
    }
  }
  assert.deepEqual(leftovers, [], "no temporary file is left behind");
});
