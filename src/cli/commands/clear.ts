/**
 * `gocacheprog clear --local | --remote`: empties the local store (its own files only),
 * or deletes the keys under this prefix in Redis (`SCAN` and `UNLINK`; nothing else).
 *
 * @module
 */

import type { CommandContext } from "./context.ts";
import { forEachStoreFile } from "../../local/store_files.ts";
import { TRIM_STATE_FILE } from "../../local/trim.ts";
import { HEALTH_FILE } from "../../local/health_file.ts";
import { messageOf } from "../../errors.ts";

/**
 * Clears one tier and says how much it removed.
 *
 * @param context The configuration and the printer.
 * @returns The exit status: 1 if Redis cannot be reached, 2 without Redis settings.
 */
export async function runClear(context: CommandContext): Promise<number> {
  const { config, dir, print } = context;
  if (config.clearLocal) {
    let removed = 0;
    forEachStoreFile(dir, (path) => {
      try {
        Deno.removeSync(path);
        removed++;
      } catch {
        // removed meanwhile
      }
    });
    for (const file of [TRIM_STATE_FILE, HEALTH_FILE]) {
      try {
        Deno.removeSync(`${dir}/${file}`);
      } catch {
        // never written
      }
    }
    print(`cleared ${dir}: removed ${removed} files`);
    return 0;
  }
  if (context.remote === undefined) {
    context.error(
      context.remoteProblem === undefined
        ? "clear --remote needs --redis-url or --redis-sentinel"
        : `redis: cannot be used (${context.remoteProblem})`,
    );
    return context.remoteProblem === undefined ? 2 : 1;
  }
  const { openRedisAdmin } = await import("../../redis/admin.ts");
  try {
    const admin = await openRedisAdmin(context.remote);
    try {
      const deleted = await admin.clear();
      print(
        `cleared ${admin.description}: deleted ${deleted} keys under the prefix, and nothing else`,
      );
      return 0;
    } finally {
      await admin.close();
    }
  } catch (error) {
    context.error(`redis: ${messageOf(error)}`);
    return 1;
  }
}
