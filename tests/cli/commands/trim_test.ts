/** `gocacheprog trim`: one whole pass, and what it kept and why. */
import assert from "node:assert/strict";
import { runTrim } from "../../../src/cli/commands/trim.ts";
import { DiskStore } from "../../../src/local/disk_store.ts";
import { commandContext } from "../../support/commands.ts";
import { putBytes } from "../../support/stores.ts";
import { tempDir } from "../../support/tools.ts";
import { id } from "../../support/vectors.ts";

Deno.test("trim over a size cap says what it kept, and that trimming never removes what is in use", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  for (let n = 0; n < 20; n++) await putBytes(store, id(n), new Uint8Array(4096).fill(n));
  const { context, printed } = commandContext(["trim", "--dir", dir.path, "--max-size", "10K"]);
  assert.equal(runTrim(context), 0);
  assert.match(printed[0]!, /^trimmed .*: removed 0 files \(0 B\), kept 83\.4 KiB, in /);
  assert.match(
    printed[1]!,
    /of what was kept, 40 files \(83\.4 KiB\) were used in the last two hours, which trimming never removes: the store stays above --max-size 10\.0 KiB until they age/,
  );
});
