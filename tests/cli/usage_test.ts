import assert from "node:assert/strict";
import { usage } from "../../src/cli/usage.ts";
import { FLAGS } from "../../src/cli/flags.ts";
import { defaultLabel } from "../../src/cli/usage.ts";
import { VERSION } from "../../src/version.ts";

Deno.test("usage() lists every flag, its environment variable and its default", () => {
  const text = usage(VERSION);
  for (const flag of FLAGS) {
    assert.ok(text.includes(`--${flag.name}`), flag.name);
    if (flag.env !== undefined) assert.ok(text.includes(`$${flag.env}`), flag.env);
  }
  assert.match(text, /--redis-ttl DURATION\n.*\(default: 7d\)/);
  assert.match(text, /--prefetch-max-bytes SIZE\n.*\(default: 4G\)/);
  assert.equal(defaultLabel(FLAGS.find((flag) => flag.name === "redis-timeout")!), "1s");
});
