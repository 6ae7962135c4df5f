/** `gocacheprog clear --local`: the store's own files only. */
import assert from "node:assert/strict";
import { goWorkspace } from "../../support/go.ts";
import { runGocacheprog } from "../../support/program.ts";

Deno.test("clear --local empties the local store and nothing else", async () => {
  await using work = await goWorkspace();
  const { gocache } = work;
  await Deno.writeTextFile(`${gocache}/testexpire.txt`, "1\n");
  const clear = await runGocacheprog(["clear", "--local", "--dir", gocache]);
  assert.equal(clear.code, 0, clear.stderr);
  const stats = await runGocacheprog(["stats", "--dir", gocache]);
  assert.match(stats.stdout, /: 0 entries, 0 files/);
  assert.equal(
    await Deno.readTextFile(`${gocache}/testexpire.txt`),
    "1\n",
    "the go command's own files stay",
  );
});
