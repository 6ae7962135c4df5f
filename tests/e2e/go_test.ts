/**
 * End to end with the real go command: GOCACHEPROG set to this program, run from the
 * checkout with the README's permission flags, reading the directory from $GOCACHE.
 */
import assert from "node:assert/strict";
import { assertBuilt, FIXTURE_PACKAGES } from "../support/builds.ts";
import { sha256Base64 } from "../support/fake_go_client.ts";
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

Deno.test("a 64 MiB compile output goes through the pipe and stays within 150 MB", async () => {
  await using work = await goWorkspace("gocacheprog-e2e-");
  const { module, gocache } = work;
  const blob = new Uint8Array(64 << 20);
  for (let offset = 0; offset < blob.length; offset += 65536) {
    crypto.getRandomValues(blob.subarray(offset, offset + 65536));
  }
  await Deno.mkdir(`${module}/big`);
  await Deno.writeFile(`${module}/big/blob.bin`, blob);
  await Deno.writeTextFile(
    `${module}/big/big.go`,
    'package big\n\nimport _ "embed"\n\n// Blob is large.\n//\n//go:embed blob.bin\nvar Blob []byte\n',
  );
  const gocacheprog = program(gocache, ["--log-metrics"]);
  const first = await runGo(["build", "./big"], { cwd: module, gocache, gocacheprog });
  assertBuilt(first, "build of the big package");
  const written = /, ([\d.]+) MiB written/.exec(first.stderr);
  assert.ok(written !== null && Number(written[1]) >= 64, first.stderr);
  const peak = /peak RSS ([\d.]+) MiB/.exec(first.stderr);
  assert.ok(peak !== null && Number(peak[1]) * 1.048576 <= 150, first.stderr);
  const second = await runGo(["build", "-x", "./big"], { cwd: module, gocache, gocacheprog });
  assertBuilt(second, "second build of the big package");
  assert.deepEqual(compiledPackages(second.stderr), []);
  assert.ok(await sha256Base64(blob), "the blob was hashed");
});

Deno.test("go list -export prints an absolute path into GOCACHE that exists after the go command exits", async () => {
  await using work = await goWorkspace("gocacheprog-e2e-");
  const { module, gocache } = work;
  const result = await runGo(["list", "-export", "-f", "{{.Export}}", "./lib"], {
    cwd: module,
    gocache,
    gocacheprog: program(gocache),
  });
  assertBuilt(result, "go list -export");
  const path = result.stdout.trim();
  assert.ok(path.startsWith(`${gocache}/`), path);
  assert.doesNotMatch(path.slice(path.lastIndexOf("/")), /\./, "no extension in the file name");
  assert.ok((await Deno.stat(path)).size > 0);
});

Deno.test("--log-req and --log-resp print one line each, with the tier, and never a body", async () => {
  await using work = await goWorkspace();
  const { module, gocache } = work;
  const value = gocacheprogValue(
    programArgv({ dir: gocache, passDir: false, args: ["--log-req", "--log-resp"] }),
  );
  const result = await runGo(["build", "./lib"], { cwd: module, gocache, gocacheprog: value });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /gocacheprog: request \d+ put action [0-9a-f]{64} size \d+/);
  assert.match(result.stderr, /gocacheprog: response \d+ get local hit size \d+ in [\d.]+ ms/);
  assert.match(result.stderr, /gocacheprog: response \d+ get miss in [\d.]+ ms/);
  assert.doesNotMatch(result.stderr, /[A-Za-z0-9+/]{100,}/, "no base64 body");
});

Deno.test("a cache directory reached through a symbolic link, or a linked parent, is served at its real path", async () => {
  await using work = await goWorkspace("gocacheprog-e2e-");
  const { dir, module, gocache } = work;
  const real = Deno.realPathSync(gocache);
  await Deno.symlink(real, `${dir}/linked-cache`);
  await Deno.symlink(dir, `${dir}/linked-parent`);
  for (const linked of [`${dir}/linked-cache`, `${dir}/linked-parent/gocache`]) {
    // The link alone granted: refused before the handshake, naming the real path's grants.
    const linkOnly = await runGo(["build", "./..."], {
      cwd: module,
      gocache: linked,
      gocacheprog: program(linked),
    });
    assert.notEqual(linkOnly.code, 0);
    assert.match(
      linkOnly.stderr,
      new RegExp(
        `--allow-read=${real} --allow-write=${real} \\(the cache directory ${linked} is a link`,
      ),
    );
    // The link and its real path granted, as the README does: every hit is served.
    const gocacheprog = gocacheprogValue(programArgv({
      dir: linked,
      passDir: false,
      extraRead: [real],
      extraWrite: [real],
      args: ["--log-metrics"],
    }));
    assertBuilt(
      await runGo(["build", "./..."], { cwd: module, gocache: linked, gocacheprog }),
      "first build",
    );
    const second = await runGo(["build", "-x", "./..."], {
      cwd: module,
      gocache: linked,
      gocacheprog,
    });
    assertBuilt(second, "second build");
    assert.deepEqual(compiledPackages(second.stderr), [], linked);
    assert.doesNotMatch(second.stderr, /Requires|warning/);
  }
});

Deno.test("a cache directory whose path is 4,000 characters long caches everything, big outputs included", async () => {
  await using work = await goWorkspace("gocacheprog-e2e-");
  const { dir, module } = work;
  let parent = dir;
  while (parent.length < 4000 - 201) parent += `/${"p".repeat(200)}`;
  parent += `/${"q".repeat(4000 - parent.length - 1 - "/gocache".length)}`;
  await Deno.mkdir(parent, { recursive: true });
  const gocache = await freshGoCache(parent); // the standard library, seeded
  assert.equal(gocache.length, 4000);
  // An output over 1 MiB is streamed through a temporary file beside its final name.
  await Deno.mkdir(`${module}/big`);
  await Deno.writeFile(`${module}/big/blob.bin`, new Uint8Array(3 << 20).fill(7));
  await Deno.writeTextFile(
    `${module}/big/big.go`,
    'package big\n\nimport _ "embed"\n\n// Blob is large.\n//\n//go:embed blob.bin\nvar Blob []byte\n',
  );
  const gocacheprog = program(gocache, ["--log-metrics"]);
  const first = await runGo(["build", "./big", "./lib"], { cwd: module, gocache, gocacheprog });
  assertBuilt(first, "first build");
  assert.match(first.stderr, /puts \(0 errors\)/, first.stderr);
  const second = await runGo(["build", "-x", "./big", "./lib"], {
    cwd: module,
    gocache,
    gocacheprog,
  });
  assertBuilt(second, "second build");
  assert.deepEqual(compiledPackages(second.stderr), []);
});
