/**
 * A Redis Cluster with the real go command, that connects slowly: ioredis must load and
 * discover the nodes while the go command compiles on both cores, which can take longer
 * than a command's deadline. Here the nodes stay frozen until the build has put entries
 * and for at least 1.5 s, so that connecting takes longer than `--redis-timeout` (1 s)
 * every time. Connecting has a budget of its own, and puts wait for it; bound by the
 * command deadline, as it was, connecting failed and the puts of those seconds were lost.
 */
import assert from "node:assert/strict";
import { assertBuilt, warnings } from "../support/builds.ts";
import {
  actionEntryCount,
  compiledPackages,
  freshGoCache,
  makeGoModule,
  runGo,
  untilFirstPut,
} from "../support/go.ts";
import { gocacheprogValue, programArgv } from "../support/program.ts";
import { startRedisCluster } from "../support/redis_server.ts";
import { tempDir } from "../support/tools.ts";

Deno.test("a Redis Cluster that connects slowly during a cold build loses no upload: a fresh store then compiles nothing", async () => {
  await using work = await tempDir();
  const nodes = await startRedisCluster(work.path);
  try {
    const module = `${work.path}/module`;
    await Deno.mkdir(module);
    await makeGoModule(module);
    const program = (gocache: string) =>
      gocacheprogValue(programArgv({
        dir: gocache,
        passDir: false,
        redisHosts: ["127.0.0.1"],
        allEnv: true,
        args: [
          "--redis-url",
          nodes.map((node) => `127.0.0.1:${node.port}`).join(","),
          "--log-metrics",
          "--upload-wait",
          "60s",
        ],
      }));
    // The standard library is in the seeded caches: the module's own packages are put.
    const a = await freshGoCache(work.path, "a");
    const before = actionEntryCount(a);
    for (const node of nodes) node.freeze();
    const frozenAt = performance.now();
    const building = runGo(["build", "./..."], {
      cwd: module,
      gocache: a,
      gocacheprog: program(a),
    });
    await untilFirstPut(a, before, building);
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, frozenAt + 1500 - performance.now()))
    );
    for (const node of nodes) node.thaw();
    const cold = await building;
    assertBuilt(cold, "the cold build");
    assert.deepEqual(warnings(cold.stderr), []);
    assert.match(cold.stderr, / 0 dropped;/, cold.stderr);
    const b = await freshGoCache(work.path, "b");
    const fresh = await runGo(["build", "-x", "./..."], {
      cwd: module,
      gocache: b,
      gocacheprog: program(b),
    });
    assertBuilt(fresh, "the build on a fresh store");
    assert.deepEqual(compiledPackages(fresh.stderr), []);
  } finally {
    for (const node of nodes) node.thaw();
    for (const node of nodes) await node.kill();
  }
});
