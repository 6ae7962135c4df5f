/** `gocacheprog doctor`: each check, its fix, and the verdict in the exit status. */
import assert from "node:assert/strict";
import { runGocacheprog } from "../../support/program.ts";
import { startRedis } from "../../support/redis_server.ts";
import { freePort, tempDir } from "../../support/tools.ts";

/** Runs `gocacheprog doctor` on a cache directory and a Redis address. */
const doctor = (dir: string, redisUrl: string) =>
  runGocacheprog(["doctor", "--dir", dir, "--redis-url", redisUrl]);

Deno.test("doctor says all is well, or names each problem and its fix, in its exit status", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({
    dir: work.path,
    args: ["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"],
  });
  const healthy = await doctor(work.path, `127.0.0.1:${redis.port}`);
  assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
  assert.match(healthy.stdout, /ok +go command: go1\.\d+/);
  assert.match(healthy.stdout, /ok +redis round trip: [\d.]+ ms/);
  assert.match(
    healthy.stdout,
    /ok +redis memory: .* used of 64\.0 MiB, policy allkeys-lru, 0 keys evicted/,
  );
  assert.match(healthy.stdout, /all is well/);
  const down = await doctor(work.path, `127.0.0.1:${freePort()}`);
  assert.equal(down.code, 1);
  assert.match(down.stdout, /PROBLEM redis 127\.0\.0\.1:\d+: .*(ECONNREFUSED|Connection refused)/);
  assert.match(down.stdout, /fix: check that Redis runs at 127\.0\.0\.1:\d+/);
});

Deno.test("doctor warns of a Redis that would refuse uploads when full, or grow without a limit", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path }); // noeviction and no maxmemory: the defaults
  const result = await doctor(work.path, `127.0.0.1:${redis.port}`);
  assert.equal(result.code, 1, result.stdout);
  assert.match(result.stdout, /PROBLEM redis memory: .* policy noeviction, .*refuse every upload/);
  assert.match(result.stdout, /fix: set maxmemory .* allkeys-lru/);
});
