/**
 * End to end with the real go command, on what its builds give the program: big
 * outputs, export data, logging, and cache directories at linked or very long paths.
 * The go command's own sharing with this program is in `go_test.ts`.
 */
import assert from "node:assert/strict";
import { assertBuilt } from "../support/builds.ts";
import { sha256Base64 } from "../support/fake_go_client.ts";
import { compiledPackages, freshGoCache, goWorkspace, runGo } from "../support/go.ts";
import { gocacheprogValue, programArgv } from "../support/program.ts";

function program(gocache: string, args: string[] = []): string {
  return gocacheprogValue(programArgv({ dir: gocache, passDir: false, args }));
}

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
