/**
 * `gocacheprog trim`: one whole trim pass of the local store, now.
 *
 * @module
 */

import type { CommandContext } from "./context.ts";
import { trimStore } from "../../local/trim.ts";
import { formatBytes, formatMillis } from "../../util/format.ts";

/**
 * Trims and says what was removed.
 *
 * @param context The configuration and the printer.
 * @returns The exit status: 0.
 */
export function runTrim(context: CommandContext): number {
  const { config, dir, print } = context;
  const started = performance.now();
  const result = trimStore(dir, {
    ageMillis: config.trimAgeMillis,
    force: true,
    ...(config.maxSizeBytes === undefined ? {} : { maxSizeBytes: config.maxSizeBytes }),
  });
  if (!result.ran) {
    print("another process is trimming this store; nothing done");
    return 0;
  }
  print(
    `trimmed ${dir}: removed ${result.filesRemoved} files (${formatBytes(result.bytesRemoved)}), ` +
      `kept ${formatBytes(result.bytesKept)}, in ${formatMillis(performance.now() - started)}`,
  );
  if (result.bytesKeptInUse > 0) {
    print(
      `  of what was kept, ${result.filesKeptInUse} files (${
        formatBytes(result.bytesKeptInUse)
      }) ` +
        "were used in the last two hours, which trimming never removes" +
        (config.maxSizeBytes !== undefined && result.bytesKept > config.maxSizeBytes
          ? `: the store stays above --max-size ${formatBytes(config.maxSizeBytes)} until they age`
          : ""),
    );
  }
  return 0;
}
