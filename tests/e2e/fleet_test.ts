/**
 * End to end with the real go command and real `redis-server` processes: single flight
 * across runners that share one Redis. Each runner has its own fresh local cache, as on
 * separate machines; compiles are counted from `go build -x`, and what each runner's
 * program did from its `--log-metrics` summary.
 */
import assert from "node:assert/strict";
import { assertBuilt, FIXTURE_PACKAGES, warnings } from "../support/builds.ts";
import { compiledPackages, freshGoCache, moduleWorkspace, runGo } from "../support/go.ts";
import { e2eRedisProgram as program, gocacheprogValue, programArgv } from "../support/program.ts";
import { type RedisServer, startRedis, startRedisCluster } from "../support/redis_server.ts";
import { fleetCounts, holdCompile, killRunner, untilWaitingOnLease } from "../support/fleet.ts";
import type { CommandResult } from "../support/process.ts";

const LIB = "example.com/fixture/lib";

/** Runs `go build -x ./...` as one runner of the fleet, on a fresh cache of its own. */
async function runner(
  parent: string,
  name: string,
  module: string,
  gocacheprog: (gocache: string) => string,
  goArgs: readonly string[] = [],
): Promise<CommandResult> {
  const gocache = await freshGoCache(parent, name);
  return await runGo(["build", "-x", ...goArgs, "./..."], {
    cwd: module,
    gocache,
    gocacheprog: gocacheprog(gocache),
  });
}

/** Three runners at once against one Redis: each action compiled once across them. */
async function threeAtOnce(
  parent: string,
  module: string,
  gocacheprog: (gocache: string) => string,
): Promise<void> {
  // The caches first, so that the three go commands start together.
  const caches = await Promise.all(["a", "b", "c"].map((name) => freshGoCache(parent, name)));
  const results = await Promise.all(
    caches.map((gocache) =>
      runGo(["build", "-x", "./..."], { cwd: module, gocache, gocacheprog: gocacheprog(gocache) })
    ),
  );
  for (const result of results) assertBuilt(result, "a runner of the fleet");
  const compiles = results.flatMap((result) => compiledPackages(result.stderr));
  assert.deepEqual(
    compiles.sort(),
    [...FIXTURE_PACKAGES],
    "every package compiled once across the fleet (without single flight, up to three times)",
  );
  const counts = results.map((result) => fleetCounts(result.stderr));
  const taken = counts.reduce((sum, count) => sum + count.taken, 0);
  assert.ok(taken >= FIXTURE_PACKAGES.length, `one claim per compile at least (${taken})`);
  for (const count of counts) {
    assert.equal(count.givenUp, 0, "no wait ran out");
    assert.equal(count.waits, count.served + count.takenOver + count.givenUp);
  }
}

Deno.test("fleet: three runners at once, one Redis, compile each package once", async () => {
  const { dir, module } = await moduleWorkspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path });
  await threeAtOnce(dir.path, module, (gocache) => program(gocache, redis));
});

Deno.test("fleet: three runners at once on a 3-node Redis Cluster compile each package once", async () => {
  const { dir, module } = await moduleWorkspace();
  await using _ = dir;
  const nodes = await startRedisCluster(dir.path);
  try {
    const urls = nodes.map((node) => `127.0.0.1:${node.port}`).join(",");
    await threeAtOnce(dir.path, module, (gocache) =>
      gocacheprogValue(programArgv({
        dir: gocache,
        passDir: false,
        redisHosts: ["127.0.0.1"],
        allEnv: true, // a Cluster is reached through ioredis, which reads the environment
        // Gets wait for connecting at most this long: a Cluster's discovery under load.
        args: ["--redis-url", urls, "--log-metrics", "--redis-timeout", "3s"],
      })));
  } finally {
    for (const node of nodes) await node.kill();
  }
});

/** A first runner whose compile of `lib` is held; the second starts once it is. */
async function secondWhileFirstHolds(
  parent: string,
  module: string,
  redis: RedisServer,
  held: { seconds: number; end: "compile" | "fail" },
  secondArgs: readonly string[] = [],
) {
  const hold = await holdCompile(parent, LIB, held.seconds, held.end);
  const first = runner(
    parent,
    "first",
    module,
    (gocache) => program(gocache, redis),
    [`-toolexec=${hold.toolexec}`],
  );
  const firstPid = await hold.started(first);
  const second = runner(parent, "second", module, (gocache) => program(gocache, redis, secondArgs));
  return { first, firstPid, second };
}

Deno.test("fleet: a runner killed mid-compile holds the others up only until its lease expires", async () => {
  const { dir, module } = await moduleWorkspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path });
  const { first, firstPid, second } = await secondWhileFirstHolds(dir.path, module, redis, {
    seconds: 60,
    end: "compile",
  });
  // The second runner is waiting for lib when the first is killed.
  await untilWaitingOnLease(redis);
  await killRunner(firstPid);
  assert.notEqual((await first).code, 0, "the killed runner's build did not finish");
  const result = await second;
  assertBuilt(result, "the runner left");
  // What the killed runner uploaded before it was killed is served; lib, it never put.
  assert.ok(compiledPackages(result.stderr).includes(LIB), "it compiled lib itself");
  const counts = fleetCounts(result.stderr);
  assert.ok(counts.takenOver >= 1, `it took lib over once the lease expired: ${result.stderr}`);
  assert.equal(counts.givenUp, 0, "long before its wait budget (a minute) ran out");
});

Deno.test("fleet: a runner whose compile fails releases its leases at close, and the others go on", async () => {
  const { dir, module } = await moduleWorkspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path });
  const { first, second } = await secondWhileFirstHolds(dir.path, module, redis, {
    seconds: 1,
    end: "fail",
  });
  const failed = await first;
  assert.notEqual(failed.code, 0);
  assert.match(failed.stderr, /held compile of example.com\/fixture\/lib failed/);
  assert.ok(fleetCounts(failed.stderr).releasedAtClose >= 1, failed.stderr);
  const result = await second;
  assertBuilt(result, "the other runner");
  assert.ok(compiledPackages(result.stderr).includes(LIB), "it compiled lib itself");
  const counts = fleetCounts(result.stderr);
  assert.ok(counts.takenOver >= 1, result.stderr);
  assert.equal(counts.givenUp, 0);
});

Deno.test("fleet: a read-only runner waits for a writer's compile and is served it, claiming nothing", async () => {
  const { dir, module } = await moduleWorkspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path });
  const { first, second } = await secondWhileFirstHolds(
    dir.path,
    module,
    redis,
    { seconds: 1, end: "compile" },
    ["--read-only"],
  );
  assertBuilt(await first, "the writer");
  const result = await second;
  assertBuilt(result, "the read-only runner");
  assert.ok(!compiledPackages(result.stderr).includes(LIB), "lib came from the writer");
  const counts = fleetCounts(result.stderr);
  assert.ok(counts.served >= 1, result.stderr);
  assert.equal(counts.taken, 0, "a read-only runner never claims");
});

Deno.test("fleet: Redis frozen while a runner waits: a miss within the deadline, one warning, the build goes on", async () => {
  const { dir, module } = await moduleWorkspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path });
  const { first, firstPid, second } = await secondWhileFirstHolds(dir.path, module, redis, {
    seconds: 60,
    end: "compile",
  });
  await untilWaitingOnLease(redis);
  redis.freeze();
  try {
    const result = await second;
    assertBuilt(result, "the waiting runner, with Redis frozen");
    assert.ok(compiledPackages(result.stderr).includes(LIB), "it compiled lib itself");
    assert.equal(warnings(result.stderr).length, 1, result.stderr);
    assert.match(warnings(result.stderr)[0]!, /unavailable/);
    assert.equal(fleetCounts(result.stderr).givenUp, 1);
  } finally {
    redis.thaw();
    await killRunner(firstPid);
    await first;
  }
});
