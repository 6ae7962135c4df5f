/** Job metrics: one line per go command, summed by `stats`. */
import assert from "node:assert/strict";
import { formatJobTotals, sumMetrics } from "../../src/cli/job_metrics.ts";
import { goWorkspace, runGo } from "../support/go.ts";
import { gocacheprogValue, programArgv, runGocacheprog } from "../support/program.ts";

Deno.test("sumMetrics() adds up every numeric field and skips unreadable lines", () => {
  const totals = sumMetrics('{"gets":3,"hits":2,"time":"x"}\n{"gets":4,"hits":4}\n{"gets":\n\n');
  assert.deepEqual(totals, { commands: 2, badLines: 1, sums: { gets: 7, hits: 6 } });
  assert.match(formatJobTotals(totals), /gets: 7, hit rate 85\.7%/);
});

Deno.test("metrics lines from several concurrent go commands add up, with the compile time the hits replaced", async () => {
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
    records.slice(1).some((record) => record.compileMillisReplaced > 0),
    "later hits replaced compile time",
  );
  const stats = await runGocacheprog(["stats", "--dir", gocache, "--metrics-file", metricsFile]);
  assert.equal(stats.code, 0, stats.stderr);
  assert.match(stats.stdout, /go commands: 4/);
  assert.match(stats.stdout, new RegExp(`gets: ${totals.sums.gets}, hit rate`));
  assert.match(stats.stdout, /compile time the hits replaced: \d.* not wall time/);
  assert.match(stats.stdout, /local store .*: \d+ entries/);
});
