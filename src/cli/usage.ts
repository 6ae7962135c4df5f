/**
 * The text of `--help`, derived from the flag table and the commands.
 *
 * @module
 */

import { COMMANDS } from "./config.ts";
import { FLAGS, type FlagSpec } from "./flags.ts";
import { formatDuration, formatSize } from "./units.ts";

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

/**
 * How `--help` and the README state a flag's default: its `defaultText`, else its
 * default value in the flag's own syntax (`7d`, `4G`), else `off` for a switch.
 *
 * @param spec The flag.
 * @returns The default's text, or `undefined` when the flag has none to state.
 */
export function defaultLabel(spec: FlagSpec): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const value = spec.default;
  switch (spec.kind) {
    case "boolean":
      return value === true ? "on" : "off";
    case "duration":
      return typeof value === "number" ? formatDuration(value) : undefined;
    case "size":
      return typeof value === "number" ? formatSize(value) : undefined;
    default:
      return typeof value === "string" && value !== "" ? value : undefined;
  }
}
