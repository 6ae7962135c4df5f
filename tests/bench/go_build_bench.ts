// deno-lint-ignore-file no-console -- a benchmark reports on the console
/**
 * `deno task bench`: how much this program costs a real build, against the go command's
 * own GOCACHE measured in the same run (these machines are noisy, so only ratios from
 * one run mean anything).
 *
 * Workload: `go build std` (GOROOT is local: nothing to download). Scenarios, each run
 * alternately with its native counterpart:
 *
 * - warm: everything already in the cache; beside the native build and this program, a
 *   minimal GOCACHEPROG written in Go (`reference_cacheprog.go`) gives the floor that the
 *   protocol itself sets on this machine;
 * - cold: an empty cache;
 * - start-up: time from spawning the program to its handshake, beside a bare Deno
 *   script that writes one line (the runtime's own floor on this machine);
 * - a 64 MiB put through the pipe, for peak memory.
 *
 * Flags: `--runs N` warm pairs (default 7), `--cold-runs N` cold pairs (default 3,
 * 0 to skip), `--startup-runs N` (default 21).
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  FakeGoClient,
  gocacheprogValue,
  programArgv,
  requireTool,
  runGo,
  sha256Base64,
  tempDir,
} from "../helpers.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "7" },
    "cold-runs": { type: "string", default: "3" },
    "startup-runs": { type: "string", default: "21" },
  },
});
const warmRuns = Number(values.runs);
const coldRuns = Number(values["cold-runs"]);
const startupRuns = Number(values["startup-runs"]);

requireTool("go");
await using work = await tempDir("gocacheprog-bench-");
const cwd = `${work.path}/cwd`;
await Deno.mkdir(cwd);

/** One scenario's samples. */
interface Samples {
  millis: number[];
  peakRss: number[];
}

function programValue(dir: string): string {
  return gocacheprogValue(programArgv({ dir, passDir: false, args: ["--log-metrics"] }));
}

/** Which cache serves a build: the go command's own, this program, or the Go reference. */
type Server = "native" | "program" | "reference";

let referenceBinary = "";

async function build(dir: string, server: Server, into?: Samples): Promise<void> {
  const gocacheprog = server === "program"
    ? programValue(dir)
    : server === "reference"
    ? referenceBinary
    : undefined;
  const result = await runGo(["build", "std"], {
    cwd,
    gocache: dir,
    ...(gocacheprog === undefined ? {} : { gocacheprog }),
  });
  if (result.code !== 0) throw new Error(`go build std failed:\n${result.stderr}`);
  if (into !== undefined) {
    into.millis.push(result.millis);
    const rss = /peak RSS ([\d.]+) (KiB|MiB|GiB)/.exec(result.stderr);
    if (rss !== null) {
      into.peakRss.push(Number(rss[1]) * { KiB: 1 / 1024, MiB: 1, GiB: 1024 }[rss[2] as "KiB"]);
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

const rows: string[][] = [];
function row(name: string, samples: Samples, baseline?: Samples, target?: string): void {
  const ratio = baseline === undefined
    ? ""
    : (median(samples.millis) / median(baseline.millis)).toFixed(3);
  const rss = samples.peakRss.length > 0 ? `${Math.max(...samples.peakRss).toFixed(1)} MiB` : "";
  rows.push([
    name,
    `${median(samples.millis).toFixed(0)} ms`,
    String(samples.millis.length),
    ratio,
    rss,
    target ?? "",
  ]);
}

const empty = (): Samples => ({ millis: [], peakRss: [] });

// Warm: fill one cache natively and one through the program, then rotate the servers.
const warm: Record<Server, Samples> = { native: empty(), program: empty(), reference: empty() };
if (warmRuns > 0) {
  referenceBinary = `${work.path}/reference-cacheprog`;
  const compiled = await runGo(
    ["build", "-o", referenceBinary, `${import.meta.dirname}/reference_cacheprog.go`],
    { cwd, gocache: `${work.path}/reference-build-cache` },
  );
  if (compiled.code !== 0) {
    throw new Error(`building the reference GOCACHEPROG failed:\n${compiled.stderr}`);
  }
  const dirs: Record<Server, string> = {
    native: `${work.path}/native-warm`,
    program: `${work.path}/program-warm`,
    reference: `${work.path}/program-warm`, // it reads what the program stored
  };
  console.error("filling the warm caches (two cold builds)...");
  await build(dirs.native, "native");
  await build(dirs.program, "program");
  const servers: Server[] = ["native", "program", "reference"];
  for (let i = 0; i < warmRuns; i++) {
    for (let j = 0; j < servers.length; j++) {
      const server = servers[(i + j) % servers.length]!; // rotate the order
      await build(dirs[server], server, warm[server]);
    }
    console.error(`warm round ${i + 1}/${warmRuns}`);
  }
  row("native warm", warm.native, warm.native);
  row("reference GOCACHEPROG (Go) warm", warm.reference, warm.native, "the protocol's floor");
  row("gocacheprog warm", warm.program, warm.native, "<= 1.15");
}

const nativeCold = empty();
const programCold = empty();
for (let i = 0; i < coldRuns; i++) {
  const order: Server[] = i % 2 === 0 ? ["native", "program"] : ["program", "native"];
  for (const server of order) {
    const dir = `${work.path}/cold-${i}-${server}`;
    await build(dir, server, server === "program" ? programCold : nativeCold);
    await Deno.remove(dir, { recursive: true });
  }
  console.error(`cold pair ${i + 1}/${coldRuns}`);
}
if (coldRuns > 0) {
  row("native cold", nativeCold, nativeCold);
  row("gocacheprog cold", programCold, nativeCold, "<= 1.05");
}

// Start-up to handshake, beside a bare Deno script.
async function timeToFirstLine(argv: string[]): Promise<number> {
  const started = performance.now();
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
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
const bareStartup = empty();
for (let i = 0; i < startupRuns; i++) {
  programStartup.millis.push(await timeToFirstLine(programArgv({ dir: startupDir })));
  bareStartup.millis.push(
    await timeToFirstLine([Deno.execPath(), "run", "--no-prompt", bareScript]),
  );
}
row("bare deno script to first line", bareStartup, bareStartup);
row("gocacheprog to handshake", programStartup, bareStartup, "<= 50 ms");

// A 64 MiB put through the pipe, for peak memory.
const bigDir = `${work.path}/big`;
const body = new Uint8Array(64 << 20);
for (let offset = 0; offset < body.length; offset += 65536) {
  crypto.getRandomValues(body.subarray(offset, offset + 65536));
}
const client = await FakeGoClient.start(programArgv({ dir: bigDir, args: ["--log-metrics"] }));
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
  bigRss === null ? "?" : `${bigRss[1]} MiB`,
  "RSS <= 150 MB",
]);

const header = ["scenario", "median", "runs", "ratio", "peak RSS", "target"];
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
