// deno-lint-ignore-file no-console -- a benchmark reports on the console
/**
 * `deno task bench`: what this program costs, or saves, a real build, against the go
 * command's own GOCACHE measured in the same run. These machines are noisy, so only
 * ratios from one run mean anything, and every section rotates the order of its
 * scenarios from round to round.
 *
 * Workload: `go build std` (GOROOT is local: nothing to download). This program runs as
 * the README's recipes run it, bundled into one file, bundled here from the sources as
 * they stand.
 *
 * 1. Warm, everything in the local cache: native; a minimal GOCACHEPROG written in Go
 *    (`reference_cacheprog.go`), whose cost is the floor that the protocol itself sets
 *    on this machine; and this program, with a trim pass due (the worst case of the
 *    daily trim) and with trimming off.
 * 2. Cold, an empty local cache: native; this program alone; with an empty Redis up;
 *    with Redis refused (nothing listening); with Redis frozen (SIGSTOP).
 * 3. Remote-warm, an empty local cache and Redis holding everything: at 0 and 5 ms per
 *    round trip (a latency proxy in front of Redis), with plain and zstd-compressed
 *    values (to decide whether compression pays).
 * 3b. Prefetch from build manifests: remote-warm through a latency proxy at 0, 5 and
 *    20 ms per round trip, with a current manifest, with none (the first build of a
 *    scope), with one from a different build (`-gcflags=all=-l`), and after a
 *    `gocacheprog prefetch` step (the step timed on its own), against native warm.
 * 3c. A CI job of ten warm go commands (build, vet, list of the standard library) with
 *    Redis up, refused and frozen: what a dead Redis costs a job, not one go command.
 * 3d. A fleet: runners sharing one Redis that start the same cold build at once, with
 *    single flight and without, beside one alone and the seed's fleet (`fleet_bench.ts`).
 * 4. Start-up to the handshake, beside a bare Deno script (the runtime's own floor), and
 *    with an empty `DENO_DIR` on a runner that cannot reach npm: the job's first go
 *    command, and the next one.
 * 5. A 64 MiB put through the pipe, for peak memory.
 *
 * Beside this program, each section measures the floor (a minimal GOCACHEPROG in Go,
 * `reference_cacheprog.go`, which with `-redis` also fetches from Redis as this program
 * does, verified) and the seed (yonesko/gocacheprog v1.3.0, built by `seed.ts`).
 *
 * Flags: `--runs N` rounds of the warm section (default 5), `--remote-runs N` rounds of
 * the remote-warm section (default: `--runs`), `--cold-runs N` rounds of the cold
 * section (default 2; each round is six cold builds of about a minute),
 * `--prefetch-runs N` (default 3), `--job-runs N` (default 3), `--startup-runs N`
 * (default 21), `--fleet-runs N` (default 1; each round is about fifteen cold builds),
 * `--skip-redis`, and
 * `--seed-dir DIR` (or `GOCACHEPROG_SEED_DIR`): the seed's source, when the module proxy
 * does not serve it.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { FakeGoClient, sha256Base64 } from "../support/fake_go_client.ts";
import { runGo } from "../support/go.ts";
import { type LatencyProxy, startLatencyProxy } from "../support/latency_proxy.ts";
import {
  bundleSources,
  CLI_ENTRY,
  gocacheprogValue,
  programArgv,
  runPrefetchStep,
} from "../support/program.ts";
import { type RedisServer, startRedis } from "../support/redis_server.ts";
import { freePort, requireTool, tempDir } from "../support/tools.ts";
import { buildSeed, seedGocacheprog } from "./seed.ts";
import { benchFleet } from "./fleet_bench.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "5" },
    "cold-runs": { type: "string", default: "2" },
    "startup-runs": { type: "string", default: "21" },
    "skip-redis": { type: "boolean", default: false },
    "prefetch-runs": { type: "string", default: "3" },
    "remote-runs": { type: "string" },
    "job-runs": { type: "string", default: "3" },
    "fleet-runs": { type: "string", default: "1" },
    "seed-dir": { type: "string" },
  },
});
const warmRuns = Number(values.runs);
const coldRuns = Number(values["cold-runs"]);
const startupRuns = Number(values["startup-runs"]);
const withRedis = !values["skip-redis"];
const prefetchRuns = Number(values["prefetch-runs"]);
const remoteRuns = Number(values["remote-runs"] ?? values.runs);
const jobRuns = Number(values["job-runs"]);
const fleetRuns = Number(values["fleet-runs"]);

requireTool("go");
if (withRedis) requireTool("redis-server");
await using work = await tempDir("gocacheprog-bench-");
const cwd = `${work.path}/cwd`;
await Deno.mkdir(cwd);
// What the README's recipes run, the CLI bundled into one file, made here from the sources
// as they stand (src/main.bundle.js may lag behind them while they are being changed).
const bundle = `${work.path}/main.bundle.js`;
await bundleSources(bundle);

// The floor: a minimal GOCACHEPROG in Go (local, and with -redis a verified remote tier).
const referenceBinary = `${work.path}/reference-cacheprog`;
{
  const compiled = await runGo(
    ["build", "-o", referenceBinary, `${import.meta.dirname}/reference_cacheprog.go`],
    { cwd, gocache: `${work.path}/reference-build-cache` },
  );
  if (compiled.code !== 0) {
    throw new Error(`building the reference GOCACHEPROG failed:\n${compiled.stderr}`);
  }
}
const reference = (redisPort?: number): Server => ({
  gocacheprog: () =>
    redisPort === undefined ? referenceBinary : `${referenceBinary} -redis 127.0.0.1:${redisPort}`,
});

// The seed, the Go program this one replaces, where its source can be had.
const seedBuild = await buildSeed(
  work.path,
  values["seed-dir"] ?? Deno.env.get("GOCACHEPROG_SEED_DIR"),
);
const seedBinary = seedBuild.binary;
console.error(
  seedBinary === undefined
    ? `seed: not available (${seedBuild.reason})`
    : `seed: built from ${"from" in seedBuild ? seedBuild.from : ""}`,
);
/** The seed, with its own Redis on `redisPort`, or with a refused address for local only. */
const seed = (redisPort = freePort()): Server => ({
  gocacheprog: (dir) => seedGocacheprog(seedBinary!, dir, redisPort),
});
const seedUnavailable = (name: string) =>
  rows.push([name, "seed: not available", "", "", "", "", ""]);

/** One scenario's wall times and the program's peak memory, in MiB. */
interface Samples {
  millis: number[];
  peakRss: number[];
}

/** How a build is served. */
interface Server {
  /** GOCACHEPROG for a cache directory; absent for the go command's own cache. */
  gocacheprog?: (dir: string) => string;
}

const NATIVE: Server = {};

function program(redisPort?: number, extra: string[] = []): Server {
  return {
    gocacheprog: (dir) =>
      gocacheprogValue(programArgv({
        dir,
        passDir: false,
        entry: bundle,
        ...(redisPort === undefined ? {} : { redisHosts: ["127.0.0.1"] }),
        args: [
          "--log-metrics",
          ...(redisPort === undefined
            ? []
            : ["--redis-url", `127.0.0.1:${redisPort}`, "--upload-wait", "60s"]),
          ...extra,
        ],
      })),
  };
}

async function build(dir: string, server: Server, into?: Samples): Promise<void> {
  const result = await runGo(["build", "std"], {
    cwd,
    gocache: dir,
    ...(server.gocacheprog === undefined ? {} : { gocacheprog: server.gocacheprog(dir) }),
  });
  if (result.code !== 0) throw new Error(`go build std failed:\n${result.stderr}`);
  if (into === undefined) return;
  into.millis.push(result.millis);
  const rss = /peak RSS ([\d.]+) (KiB|MiB|GiB)/.exec(result.stderr);
  if (rss !== null) {
    into.peakRss.push(Number(rss[1]) * { KiB: 1 / 1024, MiB: 1, GiB: 1024 }[rss[2] as "MiB"]);
  }
}

const empty = (): Samples => ({ millis: [], peakRss: [] });

function median(samples: Samples): number {
  const sorted = [...samples.millis].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** Runs `rounds` rounds of the scenarios, rotating their order each round. */
async function rotate(
  rounds: number,
  label: string,
  scenarios: (() => Promise<void>)[],
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < scenarios.length; i++) await scenarios[(round + i) % scenarios.length]!();
    console.error(`${label}: round ${round + 1}/${rounds}`);
  }
}

/**
 * A new, empty cache directory, never one just emptied. Creating thousands of files
 * right after deleting thousands in the same place is slow on ext4, which skips
 * recently freed inodes one by one (17x slower to create files here, measured). The
 * directories are removed with the work directory at the end.
 */
let freshDirs = 0;
function freshDir(name: string): string {
  return `${work.path}/${name}-${freshDirs++}`;
}

const rows: string[][] = [];
function row(
  name: string,
  samples: Samples,
  baseline: Samples,
  baselineName: string,
  target = "",
): void {
  const ratio = median(samples) / median(baseline);
  const delta = (median(samples) - median(baseline)) / 1000;
  const rss = samples.peakRss.length > 0 ? `${Math.max(...samples.peakRss).toFixed(1)} MiB` : "";
  rows.push([
    name,
    `${median(samples).toFixed(0)} ms`,
    String(samples.millis.length),
    `${ratio.toFixed(3)} x ${baselineName}`,
    `${delta >= 0 ? "+" : ""}${delta.toFixed(2)} s`,
    rss,
    target,
  ]);
}

// 1. Warm.
const nativeWarm = empty();
if (warmRuns > 0) {
  const nativeDir = `${work.path}/native-warm`;
  const programDir = `${work.path}/program-warm`;
  console.error("warm: filling the caches (two cold builds)...");
  await build(nativeDir, NATIVE);
  await build(programDir, program());
  const seedDir = `${work.path}/seed-warm`;
  if (seedBinary !== undefined) await build(seedDir, seed());
  const referenceWarm = empty();
  const seedWarm = empty();
  const programWarm = empty();
  const untrimmed = empty();
  // Each build of this section starts a trim pass if one is due (one a day, time-boxed):
  // removing the marker makes every build with trimming on pay for one, the worst case.
  const trimDue = () => Deno.remove(`${programDir}/gocacheprog-trim.json`).catch(() => {});
  await rotate(warmRuns, "warm", [
    () => build(nativeDir, NATIVE, nativeWarm),
    () => build(programDir, reference(), referenceWarm), // reads what the program stored
    ...(seedBinary === undefined ? [] : [() => build(seedDir, seed(), seedWarm)]),
    async () => {
      await trimDue();
      await build(programDir, program(), programWarm);
    },
    () => build(programDir, program(undefined, ["--trim-age", "0"]), untrimmed),
  ]);
  row("native warm", nativeWarm, nativeWarm, "native warm");
  row(
    "reference GOCACHEPROG in Go, warm",
    referenceWarm,
    nativeWarm,
    "native warm",
    "the protocol's floor",
  );
  if (seedBinary === undefined) seedUnavailable("seed, warm");
  else row("seed (yonesko/gocacheprog v1.3.0), warm", seedWarm, nativeWarm, "native warm");
  row("gocacheprog warm, a trim pass due", programWarm, nativeWarm, "native warm", "<= 1.15");
  row("gocacheprog warm, trimming off", untrimmed, nativeWarm, "native warm");
  row("gocacheprog warm, trimming off", untrimmed, referenceWarm, "Go floor", "<= 1.08");
  if (seedBinary !== undefined) {
    row("gocacheprog warm, trimming off", untrimmed, seedWarm, "seed", "< 1");
  }
  row(
    "gocacheprog warm, a trim pass due",
    programWarm,
    untrimmed,
    "trimming off",
    "no measurable slow-down",
  );
}

// 2. Cold.
const nativeCold = empty();
/** A Redis holding everything a cold `go build std` stores, for the sections after this one. */
let filledRedis: RedisServer | undefined;
if (coldRuns > 0) {
  const programCold = empty();
  const redisCold = empty();
  const refused = empty();
  const frozen = empty();
  const seedCold = empty();
  const scenarios = [
    async () => await build(freshDir("cold"), NATIVE, nativeCold),
    async () => await build(freshDir("cold"), program(), programCold),
  ];
  if (seedBinary !== undefined) {
    scenarios.push(async () => await build(freshDir("cold"), seed(), seedCold));
  }
  let frozenRedis: RedisServer | undefined;
  if (withRedis) {
    const redis = filledRedis = await startRedis({ dir: work.path });
    frozenRedis = await startRedis({ dir: work.path });
    const frozenServer = frozenRedis;
    scenarios.push(
      async () => {
        await redis.cli("FLUSHALL");
        await build(freshDir("cold"), program(redis.port), redisCold);
      },
      async () => await build(freshDir("cold"), program(freePort()), refused),
      async () => {
        frozenServer.freeze();
        try {
          await build(freshDir("cold"), program(frozenServer.port), frozen);
        } finally {
          frozenServer.thaw();
        }
      },
    );
  }
  await rotate(coldRuns, "cold", scenarios);
  row("native cold", nativeCold, nativeCold, "native cold");
  row("gocacheprog cold (local only)", programCold, nativeCold, "native cold", "<= 1.05");
  if (seedBinary === undefined) seedUnavailable("seed, cold");
  else row("seed (yonesko/gocacheprog v1.3.0), cold", seedCold, nativeCold, "native cold");
  if (frozenRedis !== undefined) {
    row("gocacheprog cold, Redis up", redisCold, nativeCold, "native cold", "<= 1.10");
    row("gocacheprog cold, Redis refused", refused, nativeCold, "native cold", "<= +1 s");
    row("gocacheprog cold, Redis frozen", frozen, nativeCold, "native cold", "<= +1 s");
    await frozenRedis.kill();
  }
}

// 3. Remote-warm: an empty local store, and a Redis holding everything.
if (withRedis && (remoteRuns > 0 || prefetchRuns > 0) && filledRedis === undefined) {
  filledRedis = await startRedis({ dir: work.path });
  console.error("remote-warm: filling Redis (one cold build)...");
  await build(freshDir("fill"), program(filledRedis.port));
}
const nativeDir = `${work.path}/native-warm`;
if (warmRuns === 0 && withRedis && (remoteRuns > 0 || prefetchRuns > 0)) {
  await build(nativeDir, NATIVE);
}
if (withRedis && remoteRuns > 0) {
  const redis = filledRedis!;
  // A second Redis is filled with zstd-compressed values, and the seed's own Redis by the
  // seed, each by one more (unmeasured) cold build.
  await using zstdRedis = await startRedis({ dir: work.path });
  console.error("remote-warm: filling a Redis with zstd values (one cold build)...");
  await build(freshDir("fill"), program(zstdRedis.port, ["--compress", "zstd"]));
  await using seedRedis = await startRedis({ dir: work.path });
  if (seedBinary !== undefined) {
    console.error("remote-warm: the seed fills its own Redis (one cold build)...");
    await build(freshDir("fill"), seed(seedRedis.port));
  }
  const proxies = {
    plain: startLatencyProxy(redis.port, 5),
    zstd: startLatencyProxy(zstdRedis.port, 5),
    seed: startLatencyProxy(seedRedis.port, 5),
  };
  const remote = {
    plain0: empty(),
    plain5: empty(),
    zstd0: empty(),
    zstd5: empty(),
    seed0: empty(),
    seed5: empty(),
    floor0: empty(),
    floor5: empty(),
  };
  const remoteNativeWarm = empty();
  const remoteWarm = (server: Server, into: Samples) => async () => {
    await build(freshDir("remote-warm"), server, into);
  };
  await rotate(remoteRuns, "remote-warm", [
    () => build(nativeDir, NATIVE, remoteNativeWarm),
    remoteWarm(program(redis.port), remote.plain0),
    remoteWarm(program(proxies.plain.port), remote.plain5),
    remoteWarm(program(zstdRedis.port), remote.zstd0),
    remoteWarm(program(proxies.zstd.port), remote.zstd5),
    remoteWarm(reference(redis.port), remote.floor0),
    remoteWarm(reference(proxies.plain.port), remote.floor5),
    ...(seedBinary === undefined ? [] : [
      remoteWarm(seed(seedRedis.port), remote.seed0),
      remoteWarm(seed(proxies.seed.port), remote.seed5),
    ]),
  ]);
  for (const proxy of Object.values(proxies)) await proxy.close();
  row("native warm (remote-warm rounds)", remoteNativeWarm, remoteNativeWarm, "native warm");
  row("remote-warm, loopback", remote.plain0, remoteNativeWarm, "native warm", "<= 2.0");
  row("Go floor, remote-warm, loopback", remote.floor0, remoteNativeWarm, "native warm");
  row("remote-warm, loopback", remote.plain0, remote.floor0, "Go floor", "<= 1.3");
  if (seedBinary === undefined) {
    seedUnavailable("seed, remote-warm");
  } else {
    row("seed, remote-warm, loopback", remote.seed0, remoteNativeWarm, "native warm");
    row("remote-warm, loopback", remote.plain0, remote.seed0, "seed", "<= 0.8");
  }
  row("remote-warm, 5 ms per round trip", remote.plain5, remoteNativeWarm, "native warm");
  row("Go floor, remote-warm, 5 ms per round trip", remote.floor5, remoteNativeWarm, "native warm");
  if (seedBinary !== undefined) {
    row("seed, remote-warm, 5 ms per round trip", remote.seed5, remoteNativeWarm, "native warm");
    row("remote-warm, 5 ms per round trip", remote.plain5, remote.seed5, "seed", "< 1");
  }
  if (nativeCold.millis.length > 0) {
    row("remote-warm, loopback", remote.plain0, nativeCold, "native cold", "<= 0.2 (5x faster)");
    row(
      "remote-warm, 5 ms per round trip",
      remote.plain5,
      nativeCold,
      "native cold",
      "<= 0.333 (3x faster)",
    );
  }
  row("remote-warm zstd, loopback", remote.zstd0, remote.plain0, "plain", "< 1 if zstd pays");
  row(
    "remote-warm zstd, 5 ms per round trip",
    remote.zstd5,
    remote.plain5,
    "plain",
    "< 1 if zstd pays",
  );
}
if (withRedis && prefetchRuns > 0) await benchPrefetch(filledRedis!, nativeDir);
await filledRedis?.kill();

// 3b. Prefetch from build manifests.
async function benchPrefetch(redis: RedisServer, nativeDir: string): Promise<void> {
  const manifestArgs = (
    buildType: string,
  ) => ["--manifest", "--manifest-scope", "ref:main", "--build-type", buildType];
  console.error(
    "prefetch: recording manifests (a remote-warm build, and a cold build with other flags)...",
  );
  // The current manifest: a remote-warm build records every action it hits.
  await build(freshDir("prefetch"), program(redis.port, manifestArgs("current")));
  // A different build's manifest: the same packages with other compiler flags.
  const otherDir = freshDir("prefetch-other");
  const other = await runGo(["build", "-gcflags=all=-l", "std"], {
    cwd,
    gocache: otherDir,
    gocacheprog: program(redis.port, manifestArgs("diverged")).gocacheprog!(otherDir),
  });
  if (other.code !== 0) throw new Error(`the other build failed:\n${other.stderr}`);
  const native = empty();
  const samples: Record<string, Samples> = {};
  const scenarios: (() => Promise<void>)[] = [() => build(nativeDir, NATIVE, native)];
  const proxies: LatencyProxy[] = [];
  for (const delay of [0, 5, 20]) {
    const proxy = delay === 0 ? undefined : startLatencyProxy(redis.port, delay);
    if (proxy !== undefined) proxies.push(proxy);
    const port = proxy?.port ?? redis.port;
    const rtt = await medianRoundTrip(port);
    rows.push([
      `latency proxy ${delay} ms: a PING's round trip`,
      `${rtt.toFixed(2)} ms`,
      "50",
      "",
      "",
      "",
      "",
    ]);
    const kinds = [
      ["current manifest", "current", []],
      ["no manifest", `none-${delay}`, []],
      ["no manifest, plain on-demand", `none-${delay}`, ["--speculate=false"]],
      ["a different build's manifest", "diverged", []],
    ] as const;
    for (const [label, type, extra] of kinds) {
      const name = `remote-warm ${delay} ms, ${label}`;
      const into = samples[name] = empty();
      // These builds only read manifests. A build type or scope given on the command line
      // also writes one at close, so they run --read-only (they put nothing anyway: Redis
      // holds every entry): otherwise the first "no manifest" build would write the
      // manifest that every later one, "plain on-demand" included, then prefetched from,
      // and the first "different build's" build would replace that manifest with this one.
      const server = program(port, [
        "--read-only",
        "--manifest-scope",
        "ref:main",
        "--build-type",
        type,
        ...extra,
      ]);
      scenarios.push(async () => await build(freshDir("prefetch"), server, into));
    }
    // The CI recipe: `gocacheprog prefetch` as a step at job start, then the build. The
    // step's own time is a row of its own: in CI it overlaps checkout and set-up.
    const step = samples[`${delay} ms: the prefetch step itself`] = empty();
    const after = samples[`remote-warm ${delay} ms, current manifest, after a prefetch step`] =
      empty();
    const server = program(port, ["--manifest-scope", "ref:main", "--build-type", "current"]);
    scenarios.push(async () => {
      const dir = freshDir("prefetch");
      const result = await runPrefetchStep(dir, port, [
        "--manifest-scope",
        "ref:main",
        "--build-type",
        "current",
      ]);
      if (result.code !== 0 || !/prefetched [1-9]/.test(result.stdout)) {
        throw new Error(`the prefetch step failed:\n${result.stdout}${result.stderr}`);
      }
      step.millis.push(result.millis);
      await build(dir, server, after);
    });
  }
  await rotate(prefetchRuns, "prefetch", scenarios);
  for (const proxy of proxies) await proxy.close();
  row("native warm (prefetch rounds)", native, native, "native warm");
  for (const [name, sample] of Object.entries(samples)) {
    const target = !name.includes("current")
      ? ""
      : name.includes(" 5 ms")
      ? "<= 1.3"
      : name.includes("20 ms")
      ? "<= 1.5"
      : "";
    row(name, sample, native, "native warm", target);
  }
  for (const delay of [5, 20]) {
    const plain = samples[`remote-warm ${delay} ms, no manifest, plain on-demand`]!;
    const speculating = samples[`remote-warm ${delay} ms, no manifest`]!;
    const added = (x: Samples) => median(x) - median(native);
    rows.push([
      `${delay} ms: no manifest, added time vs plain on-demand`,
      `${(added(speculating) / 1000).toFixed(2)} s`,
      String(speculating.millis.length),
      `${(added(speculating) / added(plain)).toFixed(3)} x plain's ${
        (added(plain) / 1000).toFixed(2)
      } s`,
      "",
      "",
      delay === 5 ? "<= 0.7 (30% less)" : "",
    ]);
  }
  for (const delay of [5, 20]) {
    const none = samples[`remote-warm ${delay} ms, no manifest`]!;
    const diverged = samples[`remote-warm ${delay} ms, a different build's manifest`]!;
    row(
      `${delay} ms: a different build's manifest`,
      diverged,
      none,
      "no manifest",
      "<= no manifest + 1 s",
    );
  }
}

/** The median of 50 `PING` round trips to a Redis port (through a latency proxy, say). */
async function medianRoundTrip(port: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const buffer = new Uint8Array(64);
  const times: number[] = [];
  try {
    for (let i = 0; i < 50; i++) {
      const started = performance.now();
      await conn.write(new TextEncoder().encode("PING\r\n"));
      let received = "";
      while (!received.includes("\r\n")) {
        const count = await conn.read(buffer);
        if (count === null) throw new Error("Redis closed the connection");
        received += new TextDecoder().decode(buffer.subarray(0, count));
      }
      times.push(performance.now() - started);
    }
  } finally {
    conn.close();
  }
  return times.sort((a, b) => a - b)[25]!;
}

// 3c. A CI job's go commands, warm, with Redis up, refused and frozen: what a dead
// Redis costs a whole job, not one go command. Each job is ten warm go commands (build,
// vet and list of the standard library, in turn) on a warm local store.
if (withRedis && jobRuns > 0) {
  const jobDir = `${work.path}/job-warm`;
  await build(jobDir, NATIVE); // warm for the native job and the program's alike
  await using upRedis = await startRedis({ dir: work.path });
  await using frozenRedis = await startRedis({ dir: work.path });
  const job = async (server: Server, into: Samples) => {
    const started = performance.now();
    for (let i = 0; i < 10; i++) {
      const args = [["build", "std"], ["vet", "std"], ["list", "-export", "std"]][i % 3]!;
      const result = await runGo(args, {
        cwd,
        gocache: jobDir,
        ...(server.gocacheprog === undefined ? {} : { gocacheprog: server.gocacheprog(jobDir) }),
      });
      if (result.code !== 0) throw new Error(`go ${args.join(" ")} failed:\n${result.stderr}`);
    }
    into.millis.push(performance.now() - started);
  };
  const jobNative = empty();
  const jobUp = empty();
  const jobRefused = empty();
  const jobFrozen = empty();
  const refusedPort = freePort();
  await rotate(jobRuns, "job", [
    () => job(NATIVE, jobNative),
    () => job(program(upRedis.port), jobUp),
    () => job(program(refusedPort), jobRefused),
    async () => {
      frozenRedis.freeze();
      try {
        await job(program(frozenRedis.port), jobFrozen);
      } finally {
        frozenRedis.thaw();
      }
    },
  ]);
  row("job of 10 warm go commands, native", jobNative, jobNative, "native job");
  row("job of 10 warm go commands, Redis up", jobUp, jobNative, "native job");
  row("job of 10, Redis refused", jobRefused, jobUp, "Redis up", "nothing measurable");
  row("job of 10, Redis frozen", jobFrozen, jobUp, "Redis up", "<= up + 1 s (one deadline)");
}

// 3d. A fleet sharing one Redis.
if (withRedis && fleetRuns > 0) {
  await using redis = await startRedis({ dir: work.path });
  await using seedRedis = await startRedis({ dir: work.path });
  await benchFleet({
    work: work.path,
    runs: fleetRuns,
    program,
    seed: seedBinary === undefined ? undefined : seed,
    redis,
    seedRedis,
    row,
    rows,
  });
}

// 4. Start-up to the handshake.
async function timeToFirstLine(
  argv: string[],
  env: Record<string, string> = {},
): Promise<number> {
  const started = performance.now();
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  })
    .spawn();
  const reader = child.stdout.getReader();
  await reader.read();
  const millis = performance.now() - started;
  reader.releaseLock();
  await child.stdin.close();
  await child.stdout.cancel();
  await child.status;
  return millis;
}
const bareScript = `${work.path}/bare.ts`;
await Deno.writeTextFile(bareScript, 'Deno.stdout.writeSync(new TextEncoder().encode("{}\\n"));\n');
const startupDir = `${work.path}/startup`;
await Deno.mkdir(startupDir);
const programStartup = empty();
const bundleStartup = empty();
const redisStartup = empty();
const bareStartup = empty();
const seedStartup = empty();
for (let i = 0; i < startupRuns; i++) {
  if (seedBinary !== undefined) {
    seedStartup.millis.push(
      await timeToFirstLine(seedGocacheprog(seedBinary, startupDir, freePort()).split(" ")),
    );
  }
  programStartup.millis.push(await timeToFirstLine(programArgv({ dir: startupDir })));
  bundleStartup.millis.push(
    await timeToFirstLine(programArgv({ dir: startupDir, entry: bundle })),
  );
  redisStartup.millis.push(
    await timeToFirstLine(programArgv({
      dir: startupDir,
      redisHosts: ["127.0.0.1"],
      args: ["--redis-url", `127.0.0.1:${freePort()}`],
    })),
  );
  bareStartup.millis.push(
    await timeToFirstLine([Deno.execPath(), "run", "--no-prompt", bareScript]),
  );
}
row("bare deno script to first line", bareStartup, bareStartup, "bare deno");
row("gocacheprog (src/main.ts) to handshake", programStartup, bareStartup, "bare deno");
row(
  "gocacheprog bundled (as src/main.bundle.js) to handshake",
  bundleStartup,
  bareStartup,
  "bare deno",
  "<= bare + 3 ms",
);
if (seedBinary === undefined) seedUnavailable("seed to handshake");
else row("seed to handshake", seedStartup, bareStartup, "bare deno");
row(
  "gocacheprog with Redis to handshake",
  redisStartup,
  bareStartup,
  "bare deno",
  "never waits for Redis",
);
// An offline runner: an empty DENO_DIR and an npm registry that cannot be reached. The
// program must not even try to download anything it does not use. The job's first go
// command transpiles the program into the empty DENO_DIR (a one-off); the next ones find
// it there, as with a warm DENO_DIR.
const offlineStartup = empty();
const offlineNextStartup = empty();
const offlineBundleStartup = empty();
for (let i = 0; i < Math.min(startupRuns, 7); i++) {
  const offline = {
    DENO_DIR: `${work.path}/empty-deno-dir-${i}`,
    NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/",
  };
  const argv = (entry = CLI_ENTRY) =>
    programArgv({
      dir: startupDir,
      redisHosts: ["127.0.0.1"],
      args: ["--redis-url", `127.0.0.1:${freePort()}`],
      entry,
    });
  offlineStartup.millis.push(await timeToFirstLine(argv(), offline));
  offlineNextStartup.millis.push(await timeToFirstLine(argv(), offline));
  offlineBundleStartup.millis.push(
    await timeToFirstLine(argv(bundle), {
      ...offline,
      DENO_DIR: `${work.path}/empty-deno-dir-bundle-${i}`,
    }),
  );
}
row(
  "with Redis to handshake, empty DENO_DIR offline",
  offlineStartup,
  redisStartup,
  "warm DENO_DIR",
  "nothing downloaded; transpiled once",
);
row(
  "the job's next go command, that DENO_DIR offline",
  offlineNextStartup,
  redisStartup,
  "warm DENO_DIR",
  "within a few ms",
);
row(
  "bundled, empty DENO_DIR offline",
  offlineBundleStartup,
  redisStartup,
  "warm DENO_DIR",
  "no TypeScript to transpile",
);

// 5. A 64 MiB put through the pipe, for peak memory.
const body = new Uint8Array(64 << 20);
for (let offset = 0; offset < body.length; offset += 65536) {
  crypto.getRandomValues(body.subarray(offset, offset + 65536));
}
const client = await FakeGoClient.start(
  programArgv({ dir: `${work.path}/big`, args: ["--log-metrics"] }),
);
// Encode before timing: the time measured is the transfer and the program's work.
const framed = new TextEncoder().encode(
  JSON.stringify({
    ID: 1,
    Command: "put",
    ActionID: await sha256Base64(new TextEncoder().encode("bench 64 MiB")),
    OutputID: await sha256Base64(body),
    BodySize: body.length,
  }) + `\n\n"${body.toBase64()}"\n`,
);
const started = performance.now();
const pending = client.response(1);
await client.writeRaw(framed);
const answer = await pending;
const putMillis = performance.now() - started;
await client.send({ ID: 2, Command: "close" });
const { stderr } = await client.finish();
if (answer.DiskPath === undefined) {
  throw new Error(`64 MiB put failed: ${JSON.stringify(answer)} ${stderr}`);
}
const bigRss = /peak RSS ([\d.]+) MiB/.exec(stderr);
rows.push([
  "64 MiB put through the pipe",
  `${putMillis.toFixed(0)} ms`,
  "1",
  "",
  "",
  bigRss === null ? "?" : `${bigRss[1]} MiB`,
  "RSS <= 150 MB",
]);

const header = ["scenario", "median", "runs", "ratio", "delta", "peak RSS", "target"];
const widths = header.map((title, column) =>
  Math.max(title.length, ...rows.map((cells) => cells[column]!.length))
);
const format = (cells: string[]) =>
  cells.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd();
console.log(
  `go build std, ${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores`,
);
console.log(format(header));
for (const cells of rows) console.log(format(cells));
