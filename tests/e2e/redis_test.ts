/**
 * End to end with the real go command and real `redis-server` processes: sharing
 * through Redis, and every kind of Redis failure, none of which may break a build or
 * get a corrupt entry served.
 */
import assert from "node:assert/strict";
import { assertBuilt, FIXTURE_PACKAGES, remoteHits, warnings } from "../support/builds.ts";
import { compiledPackages, freshGoCache, makeGoModule, runGo } from "../support/go.ts";
import { redisGocacheprog } from "../support/program.ts";
import { type RedisServer, startRedis } from "../support/redis_server.ts";
import { tempDir } from "../support/tools.ts";

async function workspace() {
  const dir = await tempDir("gocacheprog-redis-e2e-");
  const module = `${dir.path}/module`;
  await Deno.mkdir(module);
  await makeGoModule(module);
  return { dir, module };
}

function program(gocache: string, redis: RedisServer | number, args: string[] = []): string {
  const port = typeof redis === "number" ? redis : redis.port;
  return redisGocacheprog(gocache, port, ["--redis-timeout", "300ms", ...args]);
}

/** A first build on a fresh directory "a", filling Redis. */
async function buildOnA(parent: string, module: string, redis: RedisServer): Promise<void> {
  const a = await freshGoCache(parent, "a");
  assertBuilt(
    await runGo(["build", "./..."], { cwd: module, gocache: a, gocacheprog: program(a, redis) }),
    "build on A",
  );
}

Deno.test("a build on directory A fills Redis; a build on a fresh directory B compiles nothing", async () => {
  const { dir, module } = await workspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path });
  await buildOnA(dir.path, module, redis);
  const b = await freshGoCache(dir.path, "b");
  const onB = await runGo(["build", "-x", "./..."], {
    cwd: module,
    gocache: b,
    gocacheprog: program(b, redis),
  });
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
  const b = await freshGoCache(dir.path, "b");
  const onB = await runGo(["test", "./..."], {
    cwd: module,
    gocache: b,
    gocacheprog: program(b, redis),
  });
  assertBuilt(onB, "test on B");
  assert.match(onB.stdout, /ok\s+example\.com\/fixture\/lib\s+\(cached\)/);
});

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

Deno.test("Redis frozen or killed during a build: the build succeeds", async () => {
  const { dir, module } = await workspace();
  await using _ = dir;
  for (const fault of ["freeze", "kill"] as const) {
    await using redis = await startRedis({ dir: dir.path });
    const gocache = await freshGoCache(dir.path, `cache-${fault}`);
    const build = runGo(["test", "./..."], {
      cwd: module,
      gocache,
      gocacheprog: program(gocache, redis),
    });
    await new Promise((resolve) => setTimeout(resolve, 700));
    if (fault === "freeze") redis.freeze();
    else await redis.kill();
    const result = await build;
    if (fault === "freeze") redis.thaw();
    assertBuilt(result, `go test with Redis ${fault === "freeze" ? "frozen" : "killed"} mid-build`);
    assert.ok(warnings(result.stderr).length <= 1, result.stderr);
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

Deno.test("corrupted values in Redis (bytes flipped, truncated) are never served", async () => {
  const { dir, module } = await workspace();
  await using _ = dir;
  await using redis = await startRedis({ dir: dir.path });
  await buildOnA(dir.path, module, redis);
  for (const damage of ["flip", "truncate"] as const) {
    for (const key of (await redis.cli("--scan", "--pattern", "gocacheprog:*")).split("\n")) {
      const length = Number(await redis.cli("STRLEN", key));
      if (damage === "flip") {
        // Past the 72-byte header when there is a body; inside the OutputID otherwise.
        await redis.cli("SETRANGE", key, String(length > 80 ? length - 3 : 8), "XYZ");
      } else {
        // Redis can truncate in place: SETRANGE cannot shorten, but a Lua script can.
        await redis.cli(
          "EVAL",
          "redis.call('SET', KEYS[1], string.sub(redis.call('GET', KEYS[1]), 1, ARGV[1]))",
          "1",
          key,
          String(Math.floor(length / 2)),
        );
      }
    }
    const b = await freshGoCache(dir.path, `b-${damage}`);
    const onB = await runGo(["build", "-x", "./..."], {
      cwd: module,
      gocache: b,
      gocacheprog: program(b, redis),
    });
    assertBuilt(onB, `build on B after ${damage}`);
    assert.deepEqual(
      compiledPackages(onB.stderr),
      FIXTURE_PACKAGES,
      `${damage}: everything is compiled again`,
    );
    assert.equal(remoteHits(onB.stderr), 0, damage);
    assert.ok(/\d+ corrupt/.test(onB.stderr) && !/ 0 corrupt/.test(onB.stderr), onB.stderr);
    // B uploaded good entries again, replacing the damaged ones.
    const c = await freshGoCache(dir.path, `c-${damage}`);
    const onC = await runGo(["build", "-x", "./..."], {
      cwd: module,
      gocache: c,
      gocacheprog: program(c, redis),
    });
    assertBuilt(onC, `build on C after ${damage}`);
    assert.deepEqual(compiledPackages(onC.stderr), [], `${damage}: repaired by the next build`);
  }
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
  const c = await freshGoCache(dir.path, "c");
  const onC = await runGo(["build", "-x", "./..."], {
    cwd: module,
    gocache: c,
    gocacheprog: program(c, redis),
  });
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
