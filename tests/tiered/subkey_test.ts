import assert from "node:assert/strict";
import { subkey } from "../../src/tiered/subkey.ts";
import { loadSha256 } from "../../src/util/sha256.ts";
import { goWorkspace, runGo } from "../support/go.ts";

Deno.test("subkey() computes what the go command computes (GODEBUG=gocachehash=1)", async () => {
  await using work = await goWorkspace();
  const result = await runGo(["build", "./lib"], {
    cwd: work.module,
    gocache: work.gocache,
    env: { GODEBUG: "gocachehash=1" },
  });
  assert.equal(result.code, 0, result.stderr);
  const printed = [
    ...result.stderr.matchAll(/HASH subkey ([0-9a-f]{64}) "([^"]*)" = ([0-9a-f]{64})/g),
  ];
  assert.ok(
    printed.some((match) => match[2] === "stdout"),
    "the go command printed a stdout subkey",
  );
  const sha256 = await loadSha256();
  for (const [, parent, desc, expected] of printed) {
    assert.equal(subkey(sha256, parent!, desc!), expected);
  }
});
