/**
 * The units of flag values: durations (`500ms`, `2s`, `30m`, `1h`, `7d`; a bare number is
 * seconds) and sizes (`500M`, `10G`, powers of 1024; a bare number is bytes), read and
 * written so that what is written reads back the same.
 *
 * @module
 */

const DURATION_UNITS: readonly [string, number][] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
  ["ms", 1],
];

/**
 * Parses a duration: a number with a unit (`ms`, `s`, `m`, `h`, `d`), or a bare number
 * of seconds.
 *
 * @param text The duration.
 * @returns Milliseconds, or `undefined` if the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (match === null) return undefined;
  const unit = DURATION_UNITS.find(([name]) => name === (match[2] ?? "s"))![1];
  return Math.round(Number(match[1]) * unit);
}

/**
 * Formats a duration in the largest unit that divides it: `7d`, `1s`, `250ms`.
 *
 * @param millis The duration in milliseconds.
 * @returns The text {@linkcode parseDuration} reads back.
 */
export function formatDuration(millis: number): string {
  const [name, size] = DURATION_UNITS.find(([, size]) => millis % size === 0 && millis >= size) ??
    ["ms", 1];
  return `${millis / size}${name}`;
}

const SIZE_UNITS = "KMGT";

/**
 * Parses a size: a number with an optional unit (`K`, `M`, `G`, `T`, powers of 1024,
 * with or without a trailing `B` or `iB`), or a bare number of bytes.
 *
 * @param text The size.
 * @returns Bytes, or `undefined` if the text is not a size.
 */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (match === null) return undefined;
  const unit = match[2]!.toUpperCase();
  const power = unit === "" ? 0 : SIZE_UNITS.indexOf(unit) + 1;
  return Math.round(Number(match[1]) * 1024 ** power);
}

/**
 * Formats a size in the largest unit that divides it: `4G`, `512M`, `100`.
 *
 * @param bytes The size in bytes.
 * @returns The text {@linkcode parseSize} reads back.
 */
export function formatSize(bytes: number): string {
  for (let power = SIZE_UNITS.length; power > 0; power--) {
    const unit = 1024 ** power;
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${SIZE_UNITS[power - 1]}`;
  }
  return String(bytes);
}
