/** `gocacheprog clear`: the local store's own files only, or this prefix's keys only. */
import assert from "node:assert/strict";
import { runClear } from "../../../src/cli/commands/clear.ts";
import { DiskStore } from "../../../src/local/disk_store.ts";
import { measureStore } from "../../../src/local/store_files.ts";
import { commandContext } from "../../support/commands.ts";
import { runGocacheprog } from "../../support/program.ts";
import { putBytes } from "../../support/stores.ts";
import { tempDir } from "../../support/tools.ts";
import { id } from "../../support/vectors.ts";

Deno.test("clear --local empties the local store and nothing else", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  for (let n = 0; n < 5; n++) await putBytes(store, id(n), new TextEncoder().encode(`body ${n}`));
  await Deno.writeTextFile(`${dir.path}/testexpire.txt`, "1\n");
  const { context, printed } = commandContext(["clear", "--local", "--dir", dir.path]);
  assert.equal(await runClear(context), 0);
  assert.deepEqual(printed, [`cleared ${dir.path}: removed 10 files`]);
  assert.deepEqual(measureStore(dir.path), { entries: 0, files: 0, bytes: 0 });
  assert.equal(
    await Deno.readTextFile(`${dir.path}/testexpire.txt`),
    "1\n",
    "the go command's own files stay",
  );
});

Deno.test("clear --remote without Redis says what is missing, on stderr", async () => {
  await using dir = await tempDir();
  const { context, printed, errors } = commandContext(["clear", "--remote", "--dir", dir.path]);
  assert.equal(await runClear(context), 2);
  assert.deepEqual(printed, []);
  assert.deepEqual(errors, ["clear --remote needs --redis-url or --redis-sentinel"]);
});

Deno.test("gocacheprog clear, run as a program, prints its result and exits 0", async () => {
  await using dir = await tempDir();
  await putBytes(await DiskStore.open(dir.path), id(1), new TextEncoder().encode("body"));
  const clear = await runGocacheprog(["clear", "--local", "--dir", dir.path]);
  assert.equal(clear.code, 0, clear.stderr);
  assert.equal(clear.stdout, `cleared ${dir.path}: removed 2 files\n`);
});
