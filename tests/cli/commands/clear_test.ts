/** `gocacheprog clear`: the local store's own files only, or this prefix's keys only. */
import assert from "node:assert/strict";
import { runClear } from "../../../src/cli/commands/clear.ts";
import { DiskStore } from "../../../src/local/disk_store.ts";
import { measureStore } from "../../../src/local/store_files.ts";
import { commandContext } from "../../support/commands.ts";
import { runGocacheprog } from "../../support/program.ts";
import { putBytes, remoteEntryOf, uploadOf } from "../../support/stores.ts";
import { openRedisStore } from "../../../src/redis/redis_store.ts";
import { encodeManifestHeader } from "../../../src/manifest_format.ts";
import { UsageError } from "../../../src/errors.ts";
import { startRedis } from "../../support/redis_server.ts";
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

Deno.test("clear --remote deletes exactly its own namespace's keys, with a prefix or none, beside a, a:b and none", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const url = `127.0.0.1:${redis.port}`;
  const prefixes = ["", "a", "a:b", "ab"];
  const entry = await remoteEntryOf(new Uint8Array(3 << 20).fill(1)); // a chunked entry
  for (const prefix of prefixes) {
    const store = openRedisStore({ urls: [url], prefix });
    await store.put(id(1), uploadOf(entry));
    await store.put(id(2), uploadOf(await remoteEntryOf(new TextEncoder().encode(prefix))));
    await store.writeManifest("type:ref:main", {
      jobHash: "ab".repeat(16),
      header: encodeManifestHeader("ab".repeat(16), 1),
      records: new Uint8Array(0),
    });
    await store.close();
  }
  const keysOf = async () => (await redis.cli("--scan", "--pattern", "*")).split("\n").sort();
  const all = await keysOf();
  const perNamespace = all.length / prefixes.length;
  assert.equal(perNamespace, 5, "two headers, two chunks, one manifest each");
  for (const prefix of ["a", "", "a:b"]) {
    const before = await keysOf();
    const { context, printed } = commandContext([
      "clear",
      "--remote",
      "--dir",
      work.path,
      "--redis-url",
      url,
      ...(prefix === "" ? [] : ["--redis-prefix", prefix]),
    ]);
    assert.equal(await runClear(context), 0);
    assert.match(
      printed.join("\n"),
      new RegExp(`deleted ${perNamespace} keys`),
      `prefix "${prefix}"`,
    );
    const after = await keysOf();
    const namespace = prefix === "" ? "gocacheprog:{" : `gocacheprog:${prefix}:{`;
    assert.deepEqual(
      after,
      before.filter((key) => !key.startsWith(namespace)),
      `prefix "${prefix}"`,
    );
  }
  assert.ok((await keysOf()).every((key) => key.startsWith("gocacheprog:ab:{")), "ab's keys stay");
  assert.throws(
    () => commandContext(["clear", "--remote", "--dir", work.path, "--redis-prefix", "{x}"]),
    (error: Error) => error instanceof UsageError && /hash tag/.test(error.message),
  );
});
