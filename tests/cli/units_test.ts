import assert from "node:assert/strict";
import { formatDuration, formatSize, parseDuration, parseSize } from "../../src/cli/units.ts";

Deno.test("parseDuration() and formatDuration() read back what they write", () => {
  for (const text of ["250ms", "1s", "5s", "90s", "30m", "1h", "5d", "7d"]) {
    assert.equal(formatDuration(parseDuration(text)!), text === "90s" ? "90s" : text);
  }
  assert.equal(parseDuration("2"), 2000, "a bare number is seconds");
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("soon"), undefined);
});

Deno.test("parseSize() and formatSize() read back what they write", () => {
  for (const text of ["4G", "512M", "10K", "1T", "100"]) {
    assert.equal(formatSize(parseSize(text)!), text);
  }
  assert.equal(parseSize("512MiB"), 512 * 1024 ** 2);
  assert.equal(parseSize("lots"), undefined);
});
