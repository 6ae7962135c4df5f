/**
 * End to end with the real go command and real `redis-server` processes: what one
 * directory builds, another is served, verified; a corrupt entry is never served. The
 * faults are in `redis_faults_test.ts`.
 */
import assert from "node:assert/strict";
import { assertBuilt, FIXTURE_PACKAGES, remoteHits, warnings } from "../support/builds.ts";
import { compiledPackages, freshGoCache, runGo } from "../support/go.ts";
import type { CommandResult } from "../support/process.ts";
import { e2eRedisProgram as program } from "../support/program.ts";
import { type RedisServer, startRedis } from "../support/redis_server.ts";
import { moduleWorkspace as workspace } from "../support/go.ts";

/** Runs a go command on a fresh cache directory `name`, through the program and Redis. */
async function goOnFreshCache(
  args: string[],
  name: string,
  on: { dir: { path: string }; module: string; redis: RedisServer },
): Promise<CommandResult> {
  const gocache = await freshGoCache(on.dir.path, name);
  return await runGo(args, {
    cwd: on.module,
    gocache,
    gocacheprog: program(gocache, on.redis),
  });
}

/** A first build on a fresh directory "a", filling Redis. */
async function buildOnA(parent: string, module: string, redis: RedisServer): Promise<void> {
  assertBuilt(
    await goOnFreshCache(["build", "./..."], "a", { dir: { path: parent }, module, redis }),
    "build on A",
  );
}

Deno.test("a build on directory A fills Redis; a build on a fresh directory B compiles nothing", async () => {
  const { dir, module } = await workspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path });
  await buildOnA(dir.path, module, redis);
  const onB = await goOnFreshCache(["build", "-x", "./..."], "b", { dir, module, redis });
  assertBuilt(onB, "build on B");
  assert.deepEqual(compiledPackages(onB.stderr), []);
  assert.ok(
    remoteHits(onB.stderr) >= 4,
    onB.stderr.split("\n").filter((l) => l.includes("gocacheprog:")).join("\n"),
  );
  assert.deepEqual(warnings(onB.stderr), []);
});

Deno.test("go test results are shared through Redis too", async () => {
  const { dir, module } = await workspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path });
  const a = await freshGoCache(dir.path, "a");
  assertBuilt(
    await runGo(["test", "./..."], { cwd: module, gocache: a, gocacheprog: program(a, redis) }),
    "test on A",
  );
  const onB = await goOnFreshCache(["test", "./..."], "b", { dir, module, redis });
  assertBuilt(onB, "test on B");
  assert.match(onB.stdout, /ok\s+example\.com\/fixture\/lib\s+\(cached\)/);
});

/**
 * Damages every key of ours in one script: every other value has bytes flipped (past the
 * 72-byte header when there is a body; inside the OutputID otherwise), the others are
 * cut to half their length (which SETRANGE cannot do, but a script can).
 */
const DAMAGE_SCRIPT = `
local cursor, damaged = "0", 0
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', 'gocacheprog:*', 'COUNT', 1000)
  cursor = page[1]
  for _, key in ipairs(page[2]) do
    local value = redis.call('GET', key)
    damaged = damaged + 1
    if damaged % 2 == 0 then
      redis.call('SETRANGE', key, #value > 80 and #value - 3 or 8, 'XYZ')
    else
      redis.call('SET', key, string.sub(value, 1, math.floor(#value / 2)))
    end
  end
until cursor == "0"
return damaged
`;

Deno.test("corrupted values in Redis (bytes flipped, truncated) are never served", async () => {
  const { dir, module } = await workspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path });
  await buildOnA(dir.path, module, redis);
  assert.ok(Number(await redis.cli("EVAL", DAMAGE_SCRIPT, "0")) >= 10, "keys were damaged");
  const onB = await goOnFreshCache(["build", "-x", "./..."], "b", { dir, module, redis });
  assertBuilt(onB, "build on B after the damage");
  assert.deepEqual(compiledPackages(onB.stderr), FIXTURE_PACKAGES, "everything is compiled again");
  assert.equal(remoteHits(onB.stderr), 0);
  assert.ok(/\d+ corrupt/.test(onB.stderr) && !/ 0 corrupt/.test(onB.stderr), onB.stderr);
  // B uploaded good entries again, replacing the damaged ones.
  const onC = await goOnFreshCache(["build", "-x", "./..."], "c", { dir, module, redis });
  assertBuilt(onC, "build on C after the damage");
  assert.deepEqual(compiledPackages(onC.stderr), [], "repaired by the next build");
});

Deno.test("two directories building at the same time against one Redis", async () => {
  const { dir, module } = await workspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path });
  const [a, b] = [await freshGoCache(dir.path, "a"), await freshGoCache(dir.path, "b")];
  const results = await Promise.all([
    runGo(["build", "./..."], { cwd: module, gocache: a, gocacheprog: program(a, redis) }),
    runGo(["test", "./..."], { cwd: module, gocache: b, gocacheprog: program(b, redis) }),
  ]);
  results.forEach((result, i) => assertBuilt(result, `concurrent build ${i}`));
  const onC = await goOnFreshCache(["build", "-x", "./..."], "c", { dir, module, redis });
  assertBuilt(onC, "build on C");
  assert.deepEqual(compiledPackages(onC.stderr), []);
});

Deno.test("--read-only reads from Redis but writes nothing", async () => {
  const { dir, module } = await workspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path });
  const gocache = await freshGoCache(dir.path);
  const result = await runGo(["build", "./..."], {
    cwd: module,
    gocache,
    gocacheprog: program(gocache, redis, ["--read-only"]),
  });
  assertBuilt(result, "read-only build");
  assert.equal(await redis.cli("DBSIZE"), "0");
});
