/** `gocacheprog stats`: the local store, Redis, and the keys under the prefix. */
import assert from "node:assert/strict";
import { goWorkspace, runGo } from "../../support/go.ts";
import { gocacheprogValue, programArgv, runGocacheprog } from "../../support/program.ts";
import { startRedis } from "../../support/redis_server.ts";

Deno.test("stats and clear --remote count and delete the prefix's keys with SCAN, and leave others alone", async () => {
  await using work = await goWorkspace();
  const { module, gocache } = work;
  await using redis = await startRedis({ dir: work.dir });
  const value = gocacheprogValue(programArgv({
    dir: gocache,
    passDir: false,
    redisHosts: ["127.0.0.1"],
    args: ["--redis-url", `127.0.0.1:${redis.port}`, "--redis-prefix", "team"],
  }));
  assert.equal(
    (await runGo(["build", "./..."], { cwd: module, gocache, gocacheprog: value })).code,
    0,
  );
  await redis.cli("SET", "gocacheprog:team-b:{x}", "another team's entry");
  await redis.cli("SET", "gocacheprog:{y}", "no prefix");
  await redis.cli("SET", "unrelated", "somebody else's key");
  const ours = (await redis.cli("--scan", "--pattern", "gocacheprog:team:*")).split("\n").length;
  const common = [
    "--dir",
    gocache,
    "--redis-url",
    `127.0.0.1:${redis.port}`,
    "--redis-prefix",
    "team",
  ];
  const stats = await runGocacheprog(["stats", ...common]);
  assert.equal(stats.code, 0, stats.stderr);
  assert.match(stats.stdout, new RegExp(`redis keys under the prefix: ${ours},`));
  assert.match(stats.stdout, /round trip [\d.]+ ms/);
  assert.match(
    stats.stdout,
    /redis memory: .* used of no limit, policy noeviction, \d+ keys evicted/,
  );
  const clear = await runGocacheprog(["clear", "--remote", ...common]);
  assert.equal(clear.code, 0, clear.stderr);
  assert.match(clear.stdout, new RegExp(`deleted ${ours} keys`));
  assert.equal(
    await redis.cli("EXISTS", "gocacheprog:team-b:{x}", "gocacheprog:{y}", "unrelated"),
    "3",
  );
  assert.equal(await redis.cli("--scan", "--pattern", "gocacheprog:team:*"), "");
});
