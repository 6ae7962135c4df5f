/** Job metrics, request logs, and the stats, clear and doctor commands. */
import assert from "node:assert/strict";
import { formatJobTotals, sumMetrics } from "../../src/cli/job_metrics.ts";
import { goWorkspace, runGo } from "../support/go.ts";
import { gocacheprogValue, programArgv, runGocacheprog } from "../support/program.ts";
import { startRedis } from "../support/redis_server.ts";
import { freePort, tempDir } from "../support/tools.ts";

Deno.test("sumMetrics() adds up every numeric field and skips unreadable lines", () => {
  const totals = sumMetrics('{"gets":3,"hits":2,"time":"x"}\n{"gets":4,"hits":4}\n{"gets":\n\n');
  assert.deepEqual(totals, { commands: 2, badLines: 1, sums: { gets: 7, hits: 6 } });
  assert.match(formatJobTotals(totals), /gets: 7, hit rate 85\.7%/);
});

Deno.test("metrics lines from several concurrent go commands add up, with the compile time saved", async () => {
  await using work = await goWorkspace();
  const { module, gocache } = work;
  const metricsFile = `${work.dir}/metrics.jsonl`;
  const value = gocacheprogValue([
    ...programArgv({ dir: gocache, passDir: false }).map((arg) =>
      arg.startsWith("--allow-write=") ? `${arg},${metricsFile}` : arg
    ),
    "--metrics-file",
    metricsFile,
  ]);
  const first = await runGo(["build", "./..."], { cwd: module, gocache, gocacheprog: value });
  assert.equal(first.code, 0, first.stderr);
  const concurrent = await Promise.all([
    runGo(["build", "./..."], { cwd: module, gocache, gocacheprog: value }),
    runGo(["vet", "./..."], { cwd: module, gocache, gocacheprog: value }),
    runGo(["build", "./..."], { cwd: module, gocache, gocacheprog: value }),
  ]);
  concurrent.forEach((result) => assert.equal(result.code, 0, result.stderr));
  const lines = (await Deno.readTextFile(metricsFile)).trimEnd().split("\n");
  assert.equal(lines.length, 4, "one line per go command, none torn");
  const records = lines.map((line) => JSON.parse(line));
  const totals = sumMetrics(lines.join("\n"));
  assert.equal(totals.sums.gets, records.reduce((sum, record) => sum + record.gets, 0));
  assert.ok(records[0].puts > 0 && records[0].misses > 0, "the first build compiled");
  assert.ok(
    records.slice(1).some((record) => record.savedMillis > 0),
    "later hits saved compile time",
  );
  const stats = await runGocacheprog(["stats", "--dir", gocache, "--metrics-file", metricsFile]);
  assert.equal(stats.code, 0, stats.stderr);
  assert.match(stats.stdout, /go commands: 4/);
  assert.match(stats.stdout, new RegExp(`gets: ${totals.sums.gets}, hit rate`));
  assert.match(stats.stdout, /compile time saved \(estimate\): \d/);
  assert.match(stats.stdout, /local store .*: \d+ entries/);
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

Deno.test("stats and clear --remote against Redis: counted with SCAN, other keys untouched", async () => {
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
  const clear = await runGocacheprog(["clear", "--remote", ...common]);
  assert.equal(clear.code, 0, clear.stderr);
  assert.match(clear.stdout, new RegExp(`deleted ${ours} keys`));
  assert.equal(
    await redis.cli("EXISTS", "gocacheprog:team-b:{x}", "gocacheprog:{y}", "unrelated"),
    "3",
  );
  assert.equal(await redis.cli("--scan", "--pattern", "gocacheprog:team:*"), "");
});

Deno.test("clear --local empties the local store and nothing else", async () => {
  await using work = await goWorkspace();
  const { gocache } = work;
  await Deno.writeTextFile(`${gocache}/testexpire.txt`, "1\n");
  const clear = await runGocacheprog(["clear", "--local", "--dir", gocache]);
  assert.equal(clear.code, 0, clear.stderr);
  const stats = await runGocacheprog(["stats", "--dir", gocache]);
  assert.match(stats.stdout, /: 0 entries, 0 files/);
  assert.equal(
    await Deno.readTextFile(`${gocache}/testexpire.txt`),
    "1\n",
    "the go command's own files stay",
  );
});

Deno.test("doctor says all is well, or names each problem and its fix, in its exit status", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const healthy = await runGocacheprog([
    "doctor",
    "--dir",
    work.path,
    "--redis-url",
    `127.0.0.1:${redis.port}`,
  ]);
  assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
  assert.match(healthy.stdout, /ok +go command: go1\.\d+/);
  assert.match(healthy.stdout, /ok +redis round trip: [\d.]+ ms/);
  assert.match(healthy.stdout, /all is well/);
  const down = await runGocacheprog([
    "doctor",
    "--dir",
    work.path,
    "--redis-url",
    `127.0.0.1:${freePort()}`,
  ]);
  assert.equal(down.code, 1);
  assert.match(down.stdout, /PROBLEM redis 127\.0\.0\.1:\d+: .*(ECONNREFUSED|Connection refused)/);
  assert.match(down.stdout, /fix: check that Redis runs at 127\.0\.0\.1:\d+/);
});
