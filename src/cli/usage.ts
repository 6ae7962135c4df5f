/**
 * The text of `--help`, derived from the flag table and the commands.
 *
 * @module
 */

import { COMMANDS } from "./config.ts";
import { defaultLabel, FLAGS } from "./flags.ts";

/**
 * The text of `--help`.
 *
 * @param version The program's version.
 * @returns The help text, ending in a newline.
 */
export function usage(version: string): string {
  const lines = [
    `gocacheprog ${version}: a GOCACHEPROG build cache for the go command`,
    "",
    "Usage:",
    '  GOCACHEPROG="gocacheprog [flags]" go build ./...',
    "  gocacheprog COMMAND [flags]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, text]) => `  ${name.padEnd(8)} ${text}`),
    "",
    "Flags (one or two dashes; every flag also reads the environment variable shown):",
  ];
  for (const spec of FLAGS) {
    const names = [spec.name, ...(spec.aliases ?? [])].map((name) => `--${name}`).join(", ");
    const label = spec.kind === "boolean" && spec.default === undefined &&
        spec.defaultText === undefined
      ? undefined
      : defaultLabel(spec);
    lines.push(
      `  ${names}${spec.valueName === undefined ? "" : ` ${spec.valueName}`}`,
      `        ${spec.description}${label === undefined ? "" : ` (default: ${label})`}` +
        (spec.env === undefined ? "" : ` [$${spec.env}]`),
    );
  }
  lines.push(
    "",
    "With no flags it stores the cache in $GOCACHE, in the go command's own layout.",
    "",
  );
  return lines.join("\n");
}
