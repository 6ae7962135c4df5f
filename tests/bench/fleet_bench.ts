// deno-lint-ignore-file no-console -- a benchmark reports on the console
/**
 * The fleet section of `deno task bench`: runners that share one Redis and start the same
 * cold build at once, on this machine's cores (as job pods packed on one node), each
 * with a fresh local cache. The build is `go build -x std ./...` in the fixture module;
 * compiles are counted from `-x`, and every runner's built command is run.
 *
 * Beside one runner alone (the baseline of every row): three at once with single flight,
 * without it (`--fleet-wait 0`: each compiles what it misses, as before), and the seed's
 * fleet; a second runner started 10 s after the first; one of three killed mid-build; one
 * of three whose compile of a package fails; and one runner alone with single flight on
 * and off, at 0 and 5 ms per round trip (the claim rides in the get's round trip).
 *
 * @module
 */

import { makeGoModule, runGo, startGo } from "../support/go.ts";
import { compiledPackages } from "../support/go.ts";
import { holdCompile, killRunner } from "../support/fleet.ts";
import { startLatencyProxy } from "../support/latency_proxy.ts";
import type { RedisServer } from "../support/redis_server.ts";

/** Wall times and peak memory of one scenario, as the benchmark's rows take them. */
export interface FleetSamples {
  /** Wall times, in milliseconds. */
  millis: number[];
  /** Peak RSS, in MiB (none here). */
  peakRss: number[];
}

/** How a runner is served: its GOCACHEPROG for a cache directory. */
export interface FleetServer {
  /** GOCACHEPROG for a cache directory. */
  gocacheprog?: (dir: string) => string;
}

/** What the fleet section needs of the benchmark. */
export interface FleetBenchContext {
  /** A directory for the caches and the module. */
  work: string;
  /** Rounds. */
  runs: number;
  /** This program with Redis on a port, and more flags. */
  program: (redisPort: number, extra?: string[]) => FleetServer;
  /** The seed with its Redis on a port, when it could be built. */
  seed: ((redisPort: number) => FleetServer) | undefined;
  /** A fresh Redis for the fleet, and another for the seed's. */
  redis: RedisServer;
  /** The seed's Redis. */
  seedRedis: RedisServer;
  /** Adds a timed row. */
  row: (
    name: string,
    samples: FleetSamples,
    baseline: FleetSamples,
    baselineName: string,
    target?: string,
  ) => void;
  /** Adds a row of other cells (compile counts). */
  rows: string[][];
}

/** One runner's outcome. */
interface RunnerOutcome {
  code: number;
  /** Its wall time, from the fleet's start, in milliseconds. */
  finishedAt: number;
  compiles: number;
  stderr: string;
}

/** How one runner of a fleet runs. */
interface RunnerPlan {
  server: FleetServer;
  /** Started this long after the fleet, in milliseconds. */
  delayMillis?: number;
  /** Killed (with what it started) this long after its start. */
  killAfterMillis?: number;
  /** A `-toolexec` wrapper (a compile that fails). */
  toolexec?: string;
}

let caches = 0;

/** How far ahead of the others the failing runner starts. */
const FAILING_HEAD_START_MILLIS = 3000;

/**
 * Runs the fleet section and adds its rows.
 *
 * @param context The benchmark's helpers.
 */
export async function benchFleet(context: FleetBenchContext): Promise<void> {
  const { work, program, redis } = context;
  const module = `${work}/fleet-module`;
  await Deno.mkdir(module, { recursive: true });
  await makeGoModule(module);
  const failing = await holdCompile(work, "net/http", 0, "fail");

  /** Runs the runners at once on fresh caches, against a flushed Redis. */
  const fleet = async (plans: RunnerPlan[], flush: RedisServer[]): Promise<RunnerOutcome[]> => {
    for (const server of flush) await server.cli("FLUSHALL");
    const started = performance.now();
    const outcomes = await Promise.all(plans.map(async (plan) => {
      if (plan.delayMillis !== undefined) await sleep(plan.delayMillis);
      const gocache = `${work}/fleet-cache-${caches++}`;
      const running = startGo(
        [
          "build",
          "-x",
          ...(plan.toolexec === undefined ? [] : [`-toolexec=${plan.toolexec}`]),
          "std",
          "./...",
        ],
        { cwd: module, gocache, gocacheprog: plan.server.gocacheprog!(gocache) },
      );
      if (plan.killAfterMillis !== undefined) {
        const kill = setTimeout(() => killRunner(running.pid), plan.killAfterMillis);
        running.result.finally(() => clearTimeout(kill));
      }
      const result = await running.result;
      const finishedAt = performance.now() - started;
      if (result.code === 0) await checkBuilt(module, gocache, plan.server);
      return {
        code: result.code,
        finishedAt,
        compiles: compiledPackages(result.stderr).length,
        stderr: result.stderr,
      };
    }));
    return outcomes;
  };
  const ok = (outcomes: RunnerOutcome[], what: string) => {
    for (const outcome of outcomes) {
      if (outcome.code !== 0) throw new Error(`${what}: a runner failed:\n${outcome.stderr}`);
    }
    return outcomes;
  };
  const wall = (outcomes: RunnerOutcome[]) => Math.max(...outcomes.map((o) => o.finishedAt));
  const compiles = (outcomes: RunnerOutcome[]) => outcomes.reduce((sum, o) => sum + o.compiles, 0);

  const on = program(redis.port);
  const off = program(redis.port, ["--fleet-wait", "0"]);
  const samples = {
    alone: empty(),
    three: empty(),
    threeOff: empty(),
    seedThree: empty(),
    killed: empty(),
    failed: empty(),
    aloneOff: empty(),
    alone5: empty(),
    aloneOff5: empty(),
  };
  const counts = { alone: [] as number[], three: [] as number[], threeOff: [] as number[] };
  const seedCounts: number[] = [];
  const lags: number[] = [];
  const failures: boolean[] = [];
  await using proxy = startLatencyProxy(redis.port, 5);
  const on5 = program(proxy.port);
  const off5 = program(proxy.port, ["--fleet-wait", "0"]);
  for (let round = 0; round < context.runs; round++) {
    const alone = ok(await fleet([{ server: on }], [redis]), "alone");
    samples.alone.millis.push(wall(alone));
    counts.alone.push(compiles(alone));
    const three = ok(await fleet([{ server: on }, { server: on }, { server: on }], [redis]), "3");
    samples.three.millis.push(wall(three));
    counts.three.push(compiles(three));
    const threeOff = ok(
      await fleet([{ server: off }, { server: off }, { server: off }], [redis]),
      "3 without single flight",
    );
    samples.threeOff.millis.push(wall(threeOff));
    counts.threeOff.push(compiles(threeOff));
    if (context.seed !== undefined) {
      const seed = context.seed(context.seedRedis.port);
      const seeds = ok(
        await fleet([{ server: seed }, { server: seed }, { server: seed }], [context.seedRedis]),
        "the seed's fleet",
      );
      samples.seedThree.millis.push(wall(seeds));
      seedCounts.push(compiles(seeds));
    }
    // How long after the first the second finishes.
    const later = ok(
      await fleet([{ server: on }, { server: on, delayMillis: 10_000 }], [redis]),
      "a second runner 10 s later",
    );
    lags.push(later[1]!.finishedAt - later[0]!.finishedAt);
    const killed = await fleet([
      { server: on, killAfterMillis: 15_000 },
      { server: on },
      { server: on },
    ], [redis]);
    samples.killed.millis.push(wall(ok(killed.slice(1), "the runners left")));
    // The failing runner starts first, so that it claims net/http before the others reach it.
    const failed = await fleet([
      { server: on, toolexec: failing.toolexec },
      { server: on, delayMillis: FAILING_HEAD_START_MILLIS },
      { server: on, delayMillis: FAILING_HEAD_START_MILLIS },
    ], [redis]);
    failures.push(failed[0]!.code !== 0);
    samples.failed.millis.push(
      wall(ok(failed.slice(1), "the runners beside a failing one")) - FAILING_HEAD_START_MILLIS,
    );
    samples.aloneOff.millis.push(wall(ok(await fleet([{ server: off }], [redis]), "alone, off")));
    samples.alone5.millis.push(wall(ok(await fleet([{ server: on5 }], [redis]), "alone, 5 ms")));
    samples.aloneOff5.millis.push(
      wall(ok(await fleet([{ server: off5 }], [redis]), "alone, 5 ms, off")),
    );
    console.error(`fleet: round ${round + 1}/${context.runs}`);
  }
  const { row, rows } = context;
  row("fleet: one runner alone, cold, Redis up", samples.alone, samples.alone, "alone");
  row("fleet: three runners at once", samples.three, samples.alone, "alone", "<= 1.5");
  row("fleet: three at once, --fleet-wait 0", samples.threeOff, samples.alone, "alone");
  if (context.seed !== undefined) {
    row("fleet: the seed's three at once", samples.seedThree, samples.alone, "alone");
  }
  const compileRow = (name: string, values: number[], target = "") =>
    rows.push([
      name,
      `${median(values)} compiles`,
      String(values.length),
      `${(median(values) / median(counts.alone)).toFixed(2)} x alone`,
      "",
      "",
      target,
    ]);
  compileRow("fleet: compiles, one runner alone", counts.alone);
  compileRow("fleet: compiles, three at once", counts.three, "<= 1.3");
  compileRow("fleet: compiles, three at once, --fleet-wait 0", counts.threeOff);
  if (seedCounts.length > 0) compileRow("fleet: compiles, the seed's three at once", seedCounts);
  rows.push([
    "fleet: a second runner 10 s after the first: its finish after the first's",
    `${(median(lags) / 1000).toFixed(1)} s`,
    String(lags.length),
    "",
    "",
    "",
    "a few seconds",
  ]);
  row(
    "fleet: three, one killed at 15 s: the two left",
    samples.killed,
    samples.alone,
    "alone",
    "<= alone + 5 s (a lease)",
  );
  row(
    `fleet: three, one whose compile of net/http fails (it failed ${
      failures.filter(Boolean).length
    } of ${failures.length} times), from their start 3 s later: the two left`,
    samples.failed,
    samples.alone,
    "alone",
    "not held past its close",
  );
  row(
    "fleet: alone, single flight on / off, loopback",
    samples.alone,
    samples.aloneOff,
    "off",
    "<= 1.02",
  );
  row(
    "fleet: alone, single flight on / off, 5 ms",
    samples.alone5,
    samples.aloneOff5,
    "off",
    "<= 1.02",
  );
}

/** Builds the fixture's command from the runner's cache and runs it: the build is right. */
async function checkBuilt(module: string, gocache: string, server: FleetServer): Promise<void> {
  const binary = `${gocache}-app`;
  const built = await runGo(["build", "-o", binary, "./cmd/app"], {
    cwd: module,
    gocache,
    gocacheprog: server.gocacheprog!(gocache),
  });
  if (built.code !== 0) throw new Error(`building the command failed:\n${built.stderr}`);
  const output = await new Deno.Command(binary, { stdout: "piped" }).output();
  const said = new TextDecoder().decode(output.stdout).trim();
  if (said !== "GO! 3") throw new Error(`the built command said "${said}", not "GO! 3"`);
}

function empty(): FleetSamples {
  return { millis: [], peakRss: [] };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function sleep(millis: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, millis));
}
