// deno-lint-ignore-file no-console -- a profile reports on the console
/**
 * `deno task profile`: where this program spends its CPU while it serves `go build std`,
 * warm from local disk and remote-warm (an empty local store, Redis on loopback holding
 * everything). For each: the process's CPU time, user and system, over all its threads
 * (`/usr/bin/time`), and the main thread's CPU by category, from V8's CPU profile
 * (`--cpu-prof`), each sample given to the first category found from the innermost
 * frame out. What a category holds:
 *
 * - start-up and module loading: module evaluation;
 * - stdin reads: the pipe calls. When nothing is in flight the engine waits for the next
 *   request with a blocking read, and the sampler counts that wait as time in the call: so
 *   this row is mostly waiting for the go command, and is left out of the CPU total (the
 *   process CPU, from the kernel, is the true figure);
 * - stdout writes;
 * - JSON: decoding requests and encoding responses (`wire.ts`);
 * - file system calls: every `Deno.*` file call, synchronous or not;
 * - hashing: SHA-256, `node:crypto` and Web Crypto;
 * - RESP and Redis: the Redis code, its socket calls and its value format;
 * - promises and the event loop: Deno's core glue (microtasks, op completions);
 * - GC; our other code; the runtime's native code (V8's "(program)"), and its other code;
 * - waiting on stdin: the idle time of a session that has nothing to do (not CPU).
 *
 * The profile costs the process some CPU itself (its sampling), so compare the shares and
 * one profile with another, not with the benchmark's wall times.
 *
 * Flags: `--runs N` sessions of each kind (default 3; the table gives each category's
 * median), `--skip-redis`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runGo } from "../support/go.ts";
import { programArgv } from "../support/program.ts";
import { startRedis } from "../support/redis_server.ts";
import { requireTool, tempDir } from "../support/tools.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
    "skip-redis": { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);

/** A category's rule: does this frame decide the sample, and, given the stack, which. */
type Rule = (frame: CallFrame, stack: readonly CallFrame[]) => string | undefined;

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const WAITING = "waiting on stdin (idle)";
const STDIN = "stdin reads (mostly blocked)";
const CATEGORY_ORDER = [
  "start-up and module loading",
  "stdout writes",
  "JSON",
  "file system calls",
  "hashing",
  "RESP and Redis",
  "promises and the event loop",
  "GC",
  "our other code",
  "the runtime's native code",
  "the runtime's other code",
];

const inStack = (stack: readonly CallFrame[], part: string) =>
  stack.some((frame) => frame.url.includes(part));

/** The rules, tried on each frame from the innermost out; the first answer wins. */
const RULES: Rule[] = [
  ({ functionName }) => functionName === "(idle)" ? WAITING : undefined,
  ({ functionName }) => functionName === "(garbage collector)" ? "GC" : undefined,
  ({ functionName, url }) =>
    url.includes("/util/sha256.ts") || url.includes("crypto") || functionName.includes("digest")
      ? "hashing"
      : undefined,
  ({ url }) =>
    url.includes("/src/redis/") || url.startsWith("ext:deno_net") ? "RESP and Redis" : undefined,
  ({ functionName, url }, stack) => {
    if (!url.startsWith("ext:deno_io") && !/^op_(read|write)/.test(functionName)) {
      return undefined;
    }
    return inStack(stack, "response_writer.ts") || inStack(stack, "/src/main.ts")
      ? "stdout writes"
      : STDIN;
  },
  ({ functionName, url }) =>
    url.startsWith("ext:deno_fs") || functionName.startsWith("op_fs_")
      ? "file system calls"
      : undefined,
  ({ url }) => url.includes("/src/protocol/wire.ts") ? "JSON" : undefined,
  // A module's own code, as it is evaluated: anonymous, at its very start (an arrow
  // function is anonymous too, but starts further in).
  ({ functionName, url, lineNumber, columnNumber }) =>
    functionName === "" && lineNumber === 0 && columnNumber === 0 &&
      (url.startsWith("file://") || url.startsWith("ext:"))
      ? "start-up and module loading"
      : undefined,
  ({ functionName }) => functionName === "(program)" ? "the runtime's native code" : undefined,
];

/** Milliseconds of the main thread by category, from one CPU profile. */
function categorize(profile: CpuProfile): Map<string, number> {
  const byId = new Map<number, ProfileNode>();
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }
  const categoryOfNode = new Map<number, string>();
  const categoryOf = (id: number): string => {
    const known = categoryOfNode.get(id);
    if (known !== undefined) return known;
    const stack: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      stack.push(byId.get(at)!.callFrame);
    }
    let category: string | undefined;
    for (const frame of stack) {
      for (const rule of RULES) {
        category = rule(frame, stack);
        if (category !== undefined) break;
      }
      if (category !== undefined) break;
    }
    // Before a frame of ours or of a rule, the runtime's core glue is the event loop.
    category ??= stack.some((frame) => frame.url.startsWith("file://"))
      ? "our other code"
      : stack.some((frame) => frame.url.startsWith("ext:core"))
      ? "promises and the event loop"
      : "the runtime's other code";
    categoryOfNode.set(id, category);
    return category;
  };
  const millis = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const category = categoryOf(id);
    millis.set(category, (millis.get(category) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  });
  return millis;
}

/** One profiled session: its process CPU and its main thread's categories. */
interface Session {
  userMillis: number;
  systemMillis: number;
  categories: Map<string, number>;
}

/** Runs one `go build std` with this program profiled (under GNU time), in `gocache`. */
async function profiledBuild(
  work: string,
  gocache: string,
  redisPort: number | undefined,
): Promise<Session> {
  const profileDir = await Deno.makeTempDir({ dir: work, prefix: "profile-" });
  const timeFile = `${profileDir}/time`;
  const argv = programArgv({
    dir: gocache,
    passDir: false,
    ...(redisPort === undefined ? {} : {
      redisHosts: ["127.0.0.1"],
      args: ["--redis-url", `127.0.0.1:${redisPort}`],
    }),
  });
  // deno run --cpu-prof ... under /usr/bin/time, which writes "user system" in seconds.
  argv.splice(2, 0, "--cpu-prof", `--cpu-prof-dir=${profileDir}`);
  const gocacheprog = [timeTool, "-f", "%U,%S", "-o", timeFile, ...argv].join(" ");
  const result = await runGo(["build", "std"], { cwd: work, gocache, gocacheprog });
  if (result.code !== 0) throw new Error(`go build std failed:\n${result.stderr}`);
  const [user, system] = (await Deno.readTextFile(timeFile)).trim().split("\n").at(-1)!
    .split(",").map(Number);
  const profiles = [...Deno.readDirSync(profileDir)].filter((entry) =>
    entry.name.endsWith(".cpuprofile")
  );
  if (profiles.length !== 1) throw new Error(`expected one CPU profile, found ${profiles.length}`);
  const profile = JSON.parse(await Deno.readTextFile(`${profileDir}/${profiles[0]!.name}`));
  return {
    userMillis: user! * 1000,
    systemMillis: system! * 1000,
    categories: categorize(profile),
  };
}

const median = (numbers: number[]) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

/** Prints one scenario's table, medians over its sessions. */
function report(name: string, sessions: Session[]): void {
  const cell = (millis: number) => millis.toFixed(1).padStart(8);
  console.log(`\n${name}: medians of ${sessions.length} sessions, in ms`);
  console.log(
    `process CPU: user ${cell(median(sessions.map((s) => s.userMillis)))}, system ${
      cell(median(sessions.map((s) => s.systemMillis)))
    }`,
  );
  console.log("main thread, by category:");
  let total = 0;
  for (const category of CATEGORY_ORDER) {
    const millis = median(sessions.map((s) => s.categories.get(category) ?? 0));
    total += millis;
    console.log(`  ${category.padEnd(32)}${cell(millis)}`);
  }
  console.log(`  ${"total CPU (sum of medians)".padEnd(32)}${cell(total)}`);
  for (const waiting of [STDIN, WAITING]) {
    const millis = median(sessions.map((s) => s.categories.get(waiting) ?? 0));
    console.log(`  ${waiting.padEnd(32)}${cell(millis)}`);
  }
}

requireTool("go");
const timeTool = requireTool("time"); // GNU time, for the CPU of every thread
await using work = await tempDir("gocacheprog-profile-");
const local = `${work.path}/local`;
console.error("filling the local store (a cold build)...");
const fill = await runGo(["build", "std"], {
  cwd: work.path,
  gocache: local,
  gocacheprog: programArgv({ dir: local, passDir: false }).join(" "),
});
if (fill.code !== 0) throw new Error(`go build std failed:\n${fill.stderr}`);
const warm: Session[] = [];
for (let run = 1; run <= runs; run++) {
  console.error(`warm: session ${run}/${runs}`);
  warm.push(await profiledBuild(work.path, local, undefined));
}
report("warm, local store (go build std)", warm);

if (!values["skip-redis"]) {
  requireTool("redis-server");
  await using redis = await startRedis({ dir: work.path });
  console.error("filling Redis (a cold build)...");
  const filled = await runGo(["build", "std"], {
    cwd: work.path,
    gocache: `${work.path}/redis-fill`,
    gocacheprog: programArgv({
      dir: `${work.path}/redis-fill`,
      passDir: false,
      redisHosts: ["127.0.0.1"],
      args: ["--redis-url", `127.0.0.1:${redis.port}`, "--upload-wait", "120s"],
    }).join(" "),
  });
  if (filled.code !== 0) throw new Error(`go build std failed:\n${filled.stderr}`);
  const remoteWarm: Session[] = [];
  for (let run = 1; run <= runs; run++) {
    console.error(`remote-warm: session ${run}/${runs}`);
    remoteWarm.push(await profiledBuild(work.path, `${work.path}/remote-${run}`, redis.port));
  }
  report("remote-warm, Redis on loopback (go build std, an empty local store)", remoteWarm);
}
