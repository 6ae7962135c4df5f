/**
 * `gocacheprog stats`: the local store; Redis' reachability, round trip, memory and keys
 * under the prefix; and with `--metrics-file`, the job's totals.
 *
 * @module
 */

import type { CommandContext } from "./context.ts";
import { measureStore } from "../../local/store_files.ts";
import { formatJobTotals, sumMetrics } from "../job_metrics.ts";
import { formatBytes } from "../../util/format.ts";
import { messageOf } from "../../errors.ts";

/**
 * Prints the statistics.
 *
 * @param context The configuration and the printer.
 * @returns The exit status: 1 if Redis is configured but cannot be reached.
 */
export async function runStats(context: CommandContext): Promise<number> {
  const { config, dir, print } = context;
  const local = measureStore(dir);
  print(
    `local store ${dir}: ${local.entries} entries, ${local.files} files, ${
      formatBytes(local.bytes)
    }`,
  );
  let status = 0;
  if (context.remote !== undefined) {
    const { formatRedisMemory, openRedisAdmin } = await import("../../redis/admin.ts");
    try {
      const admin = await openRedisAdmin(context.remote);
      try {
        const rtt = await admin.pingMillis();
        const { keys, bytes } = await admin.countKeys();
        print(`${admin.description}: reachable, round trip ${rtt.toFixed(2)} ms`);
        print(`redis keys under the prefix: ${keys}, ${formatBytes(bytes)}`);
        const memory = await admin.memory().catch(() => undefined);
        if (memory !== undefined) print(`redis memory: ${formatRedisMemory(memory)}`);
      } finally {
        await admin.close();
      }
    } catch (error) {
      context.error(`redis: unreachable (${messageOf(error)})`);
      status = 1;
    }
  } else if (context.remoteProblem !== undefined) {
    context.error(`redis: cannot be used (${context.remoteProblem})`);
    status = 1;
  }
  if (config.metricsFile !== undefined) {
    let text = "";
    try {
      text = Deno.readTextFileSync(config.metricsFile);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    print(`job metrics from ${config.metricsFile}:`);
    for (const line of formatJobTotals(sumMetrics(text)).trimEnd().split("\n")) print(`  ${line}`);
  }
  return status;
}
