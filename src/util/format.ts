/**
 * Numbers formatted for people, in summaries and command output.
 *
 * @module
 */

/**
 * Formats a byte count: `512 B`, `1.5 KiB`, `12.3 MiB`, `2.0 GiB`.
 *
 * @param bytes A count of bytes.
 * @returns The formatted count.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Formats a duration: `850 ms`, `1.52 s`.
 *
 * @param millis A duration in milliseconds.
 * @returns The formatted duration.
 */
export function formatMillis(millis: number): string {
  return millis < 1000 ? `${Math.round(millis)} ms` : `${(millis / 1000).toFixed(2)} s`;
}
