/**
 * Runners of a fleet, for the single-flight tests and the benchmark: a `-toolexec`
 * wrapper that holds one package's compile (so that a runner is slow, broken or killed at
 * a known point, with the same ActionIDs as a runner without it: the go command does not
 * hash the wrapper), when a runner waits on another's lease, and what a runner's
 * `--log-metrics` summary says of its waits.
 *
 * @module
 */

import { requireTool } from "./tools.ts";

/** What the held compile does once its pause is over. */
export type HeldCompileEnd = "compile" | "fail";

/** A `-toolexec` wrapper that holds one package's compile, and how to know it has. */
export interface HeldCompile {
  /** The `-toolexec` value. */
  toolexec: string;
  /** Resolves with the go command's process ID once the held compile has started. */
  started(build: Promise<unknown>): Promise<number>;
}

/**
 * Writes a wrapper that holds the compile of `pkg` for `seconds`, then compiles it or
 * fails as a compile error would; every other tool runs as it is.
 *
 * @param dir A directory for the wrapper and its marker.
 * @param pkg The import path, as the compiler's `-p` names it.
 * @param seconds How long to hold it.
 * @param end What happens then.
 * @returns The wrapper.
 */
export async function holdCompile(
  dir: string,
  pkg: string,
  seconds: number,
  end: HeldCompileEnd,
): Promise<HeldCompile> {
  const marker = `${dir}/held-${crypto.randomUUID()}`;
  const toolexec = `${marker}.sh`;
  await Deno.writeTextFile(
    toolexec,
    [
      "#!/bin/sh",
      `case " $* " in *" -p ${pkg} "*)`,
      `  echo $PPID > ${marker}.tmp && mv ${marker}.tmp ${marker}`,
      `  sleep ${seconds}`,
      end === "fail" ? `  echo "held compile of ${pkg} failed" >&2; exit 1` : "  :",
      "esac",
      'exec "$@"',
      "",
    ].join("\n"),
  );
  await Deno.chmod(toolexec, 0o755);
  return {
    toolexec,
    async started(build) {
      let ended = false;
      build.finally(() => ended = true);
      for (;;) {
        try {
          return Number((await Deno.readTextFile(marker)).trim());
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        }
        if (ended) throw new Error(`The build ended before it compiled ${pkg}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

/**
 * Kills a go command and everything it started (its GOCACHEPROG, its compilers) with
 * SIGKILL, as a runner's pod is killed.
 *
 * @param goPid The go command's process ID.
 */
export async function killRunner(goPid: number): Promise<void> {
  await new Deno.Command("pkill", { args: ["-KILL", "-P", String(goPid)] }).output();
  try {
    Deno.kill(goPid, "SIGKILL");
  } catch {
    // gone already, with its GOCACHEPROG
  }
}

/**
 * Resolves once a runner is waiting on another's lease: the one lease in `redis` is found,
 * and its entry is asked for twice more (a claim refused, then a poll; the lease's holder
 * never asks for the entry it is compiling). Watches with `redis-cli MONITOR`, so that a
 * test acts on the wait itself, not on a guess of how long a runner takes to reach it.
 *
 * @param redis The server (no password), holding exactly one lease.
 * @param withinMillis How long to look before failing.
 * @throws {Error} If no runner waits in time.
 */
export async function untilWaitingOnLease(
  redis: { port: number; cli(...args: string[]): Promise<string> },
  withinMillis = 30_000,
): Promise<void> {
  const deadline = performance.now() + withinMillis;
  // Leases of other compiles end with their uploads; the held compile's stays.
  let leases = (await redis.cli("--scan", "--pattern", "*:lease")).split("\n");
  while (leases.length !== 1 || leases[0] === "") {
    if (performance.now() > deadline) throw new Error(`Not one lease in time: ${leases.join(" ")}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    leases = (await redis.cli("--scan", "--pattern", "*:lease")).split("\n");
  }
  const lease = leases[0]!;
  const asked = `"GETEX" "${lease.slice(0, -":lease".length)}"`;
  const monitor = new Deno.Command(requireTool("redis-cli"), {
    args: ["-p", String(redis.port), "MONITOR"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const timer = setTimeout(() => monitor.kill("SIGKILL"), deadline - performance.now());
  let asks = 0;
  try {
    const lines = monitor.stdout.pipeThrough(new TextDecoderStream());
    for await (const chunk of lines) {
      asks += chunk.split("\n").filter((line) => line.includes(asked)).length;
      if (asks >= 2) return;
    }
    throw new Error(`No runner waited on the lease ${lease} in time (asked ${asks} times)`);
  } finally {
    clearTimeout(timer);
    try {
      monitor.kill("SIGKILL");
    } catch {
      // it ended at its deadline
    }
    await monitor.status;
  }
}

/** What single flight did in one go command, read from its `--log-metrics` summary. */
export interface FleetCounts {
  /** Leases taken. */
  taken: number;
  /** Of them, released after their upload. */
  released: number;
  /** Of them, released at close. */
  releasedAtClose: number;
  /** Waits on another runner's lease. */
  waits: number;
  /** Of them, served by its upload. */
  served: number;
  /** Of them, taken over once the lease ended. */
  takenOver: number;
  /** Of them, given up. */
  givenUp: number;
}

/**
 * Reads single flight's counts from a go command's stderr.
 *
 * @param stderr The go command's stderr, with this program's `--log-metrics` summary.
 * @returns The counts.
 * @throws {Error} If there is no such summary.
 */
export function fleetCounts(stderr: string): FleetCounts {
  const match =
    /fleet: (\d+) leases taken \((\d+) released after upload, (\d+) at close, \d+ lost\), (\d+) waits on other runners \((\d+) served, (\d+) taken over, (\d+) given up\)/
      .exec(stderr);
  if (match === null) throw new Error(`No single-flight summary in:\n${stderr}`);
  const [taken, released, releasedAtClose, waits, served, takenOver, givenUp] = match.slice(1)
    .map(Number) as [number, number, number, number, number, number, number];
  return { taken, released, releasedAtClose, waits, served, takenOver, givenUp };
}
