/**
 * End to end with the real go command and real `redis-server` processes: every kind of
 * Redis failure (refused, frozen, killed mid-build, a wrong password) leaves the build
 * going from local disk, with one warning.
 */
import assert from "node:assert/strict";
import { assertBuilt, FIXTURE_PACKAGES, warnings } from "../support/builds.ts";
import {
  actionEntryCount,
  compiledPackages,
  freshGoCache,
  runGo,
  untilFirstPut,
} from "../support/go.ts";
import { e2eRedisProgram as program, gocacheprogValue, programArgv } from "../support/program.ts";
import { freePort } from "../support/tools.ts";
import { HEALTH_FILE } from "../../src/local/health_file.ts";
import { startRedis } from "../support/redis_server.ts";
import { moduleWorkspace as workspace } from "../support/go.ts";

Deno.test("Redis refused: the build goes on from local disk with one warning", async () => {
  const { dir, module } = await workspace();
  await using _ = dir;
  const gocache = await freshGoCache(dir.path);
  const closedPort = await startRedis({ dir: dir.path }).then(async (
    r,
  ) => (await r.kill(), r.port));
  const result = await runGo(["build", "-x", "./..."], {
    cwd: module,
    gocache,
    gocacheprog: program(gocache, closedPort),
  });
  assertBuilt(result, "build with Redis refused");
  assert.deepEqual(compiledPackages(result.stderr), FIXTURE_PACKAGES);
  assert.equal(warnings(result.stderr).length, 1, warnings(result.stderr).join("\n"));
  assert.match(warnings(result.stderr)[0]!, /unavailable/);
});

Deno.test("Redis frozen before the build: the build goes on, one warning, at most about a second lost", async () => {
  const { dir, module } = await workspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path });
  const native = await freshGoCache(dir.path, "native");
  const baseline = await runGo(["build", "./..."], { cwd: module, gocache: native });
  assertBuilt(baseline, "native build");
  const gocache = await freshGoCache(dir.path);
  redis.freeze();
  try {
    const result = await runGo(["build", "./..."], {
      cwd: module,
      gocache,
      gocacheprog: program(gocache, redis),
    });
    assertBuilt(result, "build with Redis frozen");
    assert.equal(warnings(result.stderr).length, 1, result.stderr);
    assert.ok(
      result.millis < baseline.millis + 2500,
      `${result.millis} ms against ${baseline.millis} ms natively`,
    );
  } finally {
    redis.thaw();
  }
});

Deno.test("Redis frozen or killed during a build: the build succeeds, with one warning", async () => {
  const { dir, module } = await workspace();
  await using _ = dir;
  for (const fault of ["freeze", "kill"] as const) {
    await using redis = await startRedis({ dir: dir.path });
    const gocache = await freshGoCache(dir.path, `cache-${fault}`);
    const before = actionEntryCount(gocache);
    const build = runGo(["test", "./..."], {
      cwd: module,
      gocache,
      gocacheprog: program(gocache, redis),
    });
    // The fault comes once the build has put its first entry: it is under way.
    await untilFirstPut(gocache, before, build);
    if (fault === "freeze") redis.freeze();
    else await redis.kill();
    const result = await build;
    if (fault === "freeze") redis.thaw();
    const what = `go test with Redis ${fault === "freeze" ? "frozen" : "killed"} mid-build`;
    assertBuilt(result, what);
    assert.equal(warnings(result.stderr).length, 1, `${what}:\n${result.stderr}`);
    assert.match(warnings(result.stderr)[0]!, /unavailable/);
    // The go command went on asking after the fault: those gets failed, or were not asked.
    const remote = /remote: \d+ hits, \d+ misses, (\d+) errors, \d+ corrupt, (\d+) not asked/
      .exec(result.stderr);
    assert.ok(remote !== null, result.stderr);
    assert.ok(Number(remote[1]) + Number(remote[2]) >= 1, `${what}: ${remote[0]}`);
  }
});

Deno.test("a wrong password: the build goes on, one warning, and the password is never printed", async () => {
  const { dir, module } = await workspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path, password: "right-password" });
  const gocache = await freshGoCache(dir.path);
  const result = await runGo(["build", "./..."], {
    cwd: module,
    gocache,
    gocacheprog: program(gocache, redis),
    env: { GOCACHEPROG_REDIS_PASSWORD: "wrong-password-123" },
  });
  assertBuilt(result, "build with a wrong password");
  assert.equal(warnings(result.stderr).length, 1, result.stderr);
  assert.match(warnings(result.stderr)[0]!, /WRONGPASS|invalid username-password/);
  assert.ok(!result.stderr.includes("wrong-password-123"));
});

Deno.test("a missing password or certificate file: the build goes on from local disk with one warning", async () => {
  const { dir, module } = await workspace();
  await using _ = dir;
  for (const flag of ["--redis-password-file", "--redis-tls-ca"]) {
    const gocache = await freshGoCache(dir.path, `cache${flag}`);
    const missing = `${dir.path}/secrets/missing${flag}`; // granted, but not there
    const result = await runGo(["build", "-x", "./..."], {
      cwd: module,
      gocache,
      gocacheprog: gocacheprogValue(programArgv({
        dir: gocache,
        passDir: false,
        redisHosts: ["127.0.0.1"],
        extraRead: [missing],
        args: ["--redis-url", `127.0.0.1:${freePort()}`, flag, missing],
      })),
    });
    assertBuilt(result, `build with ${flag} missing`);
    assert.deepEqual(compiledPackages(result.stderr), FIXTURE_PACKAGES);
    assert.equal(warnings(result.stderr).length, 1, result.stderr);
    assert.match(
      warnings(result.stderr)[0]!,
      /Redis cannot be used: cannot read the .* file .*; building from the local cache alone/,
    );
  }
});

Deno.test("a frozen Redis costs a job one deadline: the job's next go commands go local at once, until Redis is back", async () => {
  const { dir, module } = await workspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path });
  const gocache = await freshGoCache(dir.path);
  const healthFile = `${gocache}/${HEALTH_FILE}`;
  const go = (args: string[]) =>
    runGo(args, { cwd: module, gocache, gocacheprog: program(gocache, redis) });
  redis.freeze();
  try {
    const first = await go(["build", "./..."]);
    assertBuilt(first, "the first go command");
    assert.equal(warnings(first.stderr).length, 1, first.stderr);
    assert.match(await Deno.readTextFile(healthFile), new RegExp(`127\\.0\\.0\\.1:${redis.port}`));
    const next = await go(["test", "./..."]); // compiles and puts its tests: it misses
    assertBuilt(next, "the next go command");
    const remote =
      /remote: 0 hits, 0 misses, 0 errors, 0 corrupt, (\d+) not asked;.* demand round trips 0; waited on remote gets 0 ms/
        .exec(next.stderr);
    assert.ok(
      remote !== null && Number(remote[1]) > 0,
      `it did not wait on Redis:\n${next.stderr}`,
    );
  } finally {
    redis.thaw();
  }
  const back = await go(["vet", "./..."]);
  assertBuilt(back, "a go command once Redis is back");
  assert.deepEqual(warnings(back.stderr), [], back.stderr);
  await assert.rejects(Deno.stat(healthFile), Deno.errors.NotFound, "the note is removed");
});
