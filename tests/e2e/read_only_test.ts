/**
 * `--read-only` with the real go command, backed the way untrusted jobs are: by a Redis
 * user allowed to read only (`+@read`), and by a replica.
 */
import assert from "node:assert/strict";
import { assertBuilt, warnings } from "../support/builds.ts";
import { compiledPackages, freshGoCache, goWorkspace, runGo } from "../support/go.ts";
import { redisGocacheprog } from "../support/program.ts";
import { startRedis } from "../support/redis_server.ts";

Deno.test("--read-only builds are served by a +@read ACL user and by a replica, and write nothing", async () => {
  await using work = await goWorkspace();
  const { module } = work;
  await using master = await startRedis({
    dir: work.dir,
    aclUsers: ["user reader on >reader-password ~* +@read"],
    // A replica's first sync would wait 5 s for others to join it.
    args: ["--repl-diskless-sync-delay", "0"],
  });
  const a = await freshGoCache(work.dir, "a");
  assertBuilt(
    await runGo(["build", "./..."], {
      cwd: module,
      gocache: a,
      gocacheprog: redisGocacheprog(a, master.port),
    }),
    "the build that fills Redis",
  );
  const keys = await master.cli("DBSIZE");
  const ttlBefore = await master.cli("--scan", "--pattern", "gocacheprog:{*}", "--count", "1000");
  const someKey = ttlBefore.split("\n")[0]!;
  await master.cli("PEXPIRE", someKey, "3600000");

  const reader = await freshGoCache(work.dir, "reader");
  const asReader = await runGo(["build", "-x", "./..."], {
    cwd: module,
    gocache: reader,
    gocacheprog: redisGocacheprog(reader, master.port, ["--read-only"]),
    env: { GOCACHEPROG_REDIS_USER: "reader", GOCACHEPROG_REDIS_PASSWORD: "reader-password" },
  });
  assertBuilt(asReader, "the read-only build as reader");
  assert.deepEqual(compiledPackages(asReader.stderr), []);
  assert.deepEqual(warnings(asReader.stderr), []);
  assert.equal(await master.cli("DBSIZE"), keys, "nothing written");
  assert.ok(Number(await master.cli("PTTL", someKey)) <= 3600000, "no TTL refreshed");

  await using replica = await startRedis({
    dir: work.dir,
    args: ["--replicaof", "127.0.0.1", String(master.port)],
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await replica.cli("DBSIZE")) === keys) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(await replica.cli("DBSIZE"), keys, "the replica has caught up");
  const fromReplica = await freshGoCache(work.dir, "replica");
  const onReplica = await runGo(["build", "-x", "./..."], {
    cwd: module,
    gocache: fromReplica,
    gocacheprog: redisGocacheprog(fromReplica, replica.port, ["--read-only"]),
  });
  assertBuilt(onReplica, "the read-only build from the replica");
  assert.deepEqual(compiledPackages(onReplica.stderr), []);
  assert.deepEqual(warnings(onReplica.stderr), []);
});
