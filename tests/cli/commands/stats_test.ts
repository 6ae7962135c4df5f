/** `gocacheprog stats`: the local store, Redis, and the keys under the prefix. */
import assert from "node:assert/strict";
import { runStats } from "../../../src/cli/commands/stats.ts";
import { runClear } from "../../../src/cli/commands/clear.ts";
import { DiskStore } from "../../../src/local/disk_store.ts";
import { openRedisStore } from "../../../src/redis/redis_store.ts";
import { commandContext } from "../../support/commands.ts";
import { runGocacheprog } from "../../support/program.ts";
import { startRedis } from "../../support/redis_server.ts";
import { putBytes, remoteEntryOf, uploadOf } from "../../support/stores.ts";
import { freePort, tempDir } from "../../support/tools.ts";
import { id } from "../../support/vectors.ts";

Deno.test("stats and clear --remote count and delete the prefix's keys with SCAN, and leave others alone", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const url = `127.0.0.1:${redis.port}`;
  const team = openRedisStore({ urls: [url], prefix: "team" });
  for (let n = 0; n < 5; n++) {
    await team.put(id(n), uploadOf(await remoteEntryOf(new TextEncoder().encode(`body ${n}`))));
  }
  await team.close();
  await redis.cli("SET", "gocacheprog:team-b:{x}", "another team's entry");
  await redis.cli("SET", "gocacheprog:{y}", "no prefix");
  await redis.cli("SET", "unrelated", "somebody else's key");
  const common = ["--dir", work.path, "--redis-url", url, "--redis-prefix", "team"];
  const stats = commandContext(["stats", ...common]);
  assert.equal(await runStats(stats.context), 0, stats.errors.join("\n"));
  const out = stats.printed.join("\n");
  assert.match(out, /redis keys under the prefix: 5,/);
  assert.match(out, /round trip [\d.]+ ms/);
  assert.match(out, /redis memory: .* used of no limit, policy noeviction, \d+ keys evicted/);
  const clear = commandContext(["clear", "--remote", ...common]);
  assert.equal(await runClear(clear.context), 0);
  assert.match(clear.printed.join("\n"), /deleted 5 keys/);
  assert.equal(
    await redis.cli("EXISTS", "gocacheprog:team-b:{x}", "gocacheprog:{y}", "unrelated"),
    "3",
  );
  assert.equal(await redis.cli("--scan", "--pattern", "gocacheprog:team:*"), "");
});

Deno.test("stats measures the local store, and says on stderr when Redis is unreachable", async () => {
  await using dir = await tempDir();
  await putBytes(await DiskStore.open(dir.path), id(1), new TextEncoder().encode("body"));
  const { context, printed, errors } = commandContext([
    "stats",
    "--dir",
    dir.path,
    "--redis-url",
    `127.0.0.1:${freePort()}`,
  ]);
  assert.equal(await runStats(context), 1);
  assert.match(printed[0]!, /: 1 entries, 2 files, 179 B$/);
  assert.match(errors.join("\n"), /^redis: unreachable \(/);
});

Deno.test("gocacheprog stats, run as a program, prints the local store", async () => {
  await using dir = await tempDir();
  const stats = await runGocacheprog(["stats", "--dir", dir.path]);
  assert.equal(stats.code, 0, stats.stderr);
  assert.equal(stats.stdout, `local store ${dir.path}: 0 entries, 0 files, 0 B\n`);
});
