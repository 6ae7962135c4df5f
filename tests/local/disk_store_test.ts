import assert from "node:assert/strict";
import { DiskStore } from "../../src/local/disk_store.ts";
import type { Hit } from "../../src/store.ts";
import { encodeNativeEntry } from "../../src/local/native_entry.ts";
import { tempDir } from "../support/tools.ts";
import { putChunks } from "../support/stores.ts";
import { loadSha256, sha256HexOffThread } from "../../src/util/sha256.ts";
import { CorruptEntryError } from "../../src/errors.ts";

const ACTION = "a05ab2cd314eed12ab0fcdecaa46dc121c69370bc8d37d72be6ca989464f76c4";
const HELLO = new TextEncoder().encode("hello");
const HELLO_ID = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

Deno.test("DiskStore stores in the go command's layout and finds what it stored", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  assert.equal(store.get(ACTION), undefined);
  const stored = await putChunks(store, { actionId: ACTION, outputId: HELLO_ID, size: 5 }, HELLO);
  assert.equal(stored.diskPath, `${dir.path}/2c/${HELLO_ID}-d`);
  assert.equal(await Deno.readTextFile(stored.diskPath), "hello");
  const entry = await Deno.readTextFile(`${dir.path}/a0/${ACTION}-a`);
  assert.match(entry, new RegExp(`^v1 ${ACTION} ${HELLO_ID} +5 +\\d+\\n$`));
  assert.deepEqual(store.get(ACTION), stored);
});

Deno.test("DiskStore.get() is a miss when the output is gone or has the wrong size", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  const stored = await putChunks(store, { actionId: ACTION, outputId: HELLO_ID, size: 5 }, HELLO);
  await Deno.writeTextFile(stored.diskPath, "hell");
  assert.equal(store.get(ACTION), undefined, "wrong size");
  await Deno.remove(stored.diskPath);
  assert.equal(store.get(ACTION), undefined, "missing output");
});

Deno.test("DiskStore.get() is a miss for an entry file that names another action or is corrupt", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  await putChunks(store, { actionId: ACTION, outputId: HELLO_ID, size: 5 }, HELLO);
  const other = "b".repeat(64);
  await Deno.writeTextFile(
    store.entryPath(ACTION),
    encodeNativeEntry({ actionId: other, outputId: HELLO_ID, size: 5, timeNanos: 1n }),
  );
  assert.equal(store.get(ACTION), undefined);
  await Deno.writeTextFile(store.entryPath(ACTION), "garbage");
  assert.equal(store.get(ACTION), undefined);
});

Deno.test("DiskStore does not rewrite an output that already holds the right bytes", async () => {
  await loadSha256(); // as the engine does after its handshake
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  const first = await putChunks(store, { actionId: ACTION, outputId: HELLO_ID, size: 5 }, HELLO);
  const before = await Deno.stat(first.diskPath);
  await putChunks(store, { actionId: "c".repeat(64), outputId: HELLO_ID, size: 5 }, HELLO);
  const after = await Deno.stat(first.diskPath);
  assert.equal(after.ino, before.ino, "same inode: the file was not replaced");
});

Deno.test("DiskStore repairs a damaged output of the right size on the next put, as the go command does", async () => {
  await loadSha256();
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  const first = await putChunks(store, { actionId: ACTION, outputId: HELLO_ID, size: 5 }, HELLO);
  await Deno.writeTextFile(first.diskPath, "jello"); // same size, other bytes: a crash, a bad disk
  assert.ok(store.get(ACTION), "a get checks the size only, as the go command's does");
  await putChunks(store, { actionId: "c".repeat(64), outputId: HELLO_ID, size: 5 }, HELLO);
  assert.equal(await Deno.readTextFile(first.diskPath), "hello");
  await Deno.writeTextFile(first.diskPath, "jello");
  await store.storeFetched(
    { actionId: "d".repeat(64), outputId: HELLO_ID, size: 5 },
    HELLO,
    "background",
  );
  assert.equal(await Deno.readTextFile(first.diskPath), "hello", "a prefetch repairs it too");
});

Deno.test("DiskStore stores an empty body as an empty file", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const stored = await putChunks(store, { actionId: ACTION, outputId: empty, size: 0 });
  assert.equal((await Deno.stat(stored.diskPath)).size, 0);
  assert.equal(store.get(ACTION)?.size, 0);
});

Deno.test("DiskStore streams a large body through a temporary file in the shard directory", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  const outputId = "d".repeat(64);
  const writer = store.startPut({ actionId: ACTION, outputId, size: 3 << 20 });
  const piece = new Uint8Array(1 << 20).fill(7);
  for (let i = 0; i < 3; i++) await writer.write(piece);
  const temporaries = [...Deno.readDirSync(`${dir.path}/dd`)].map((entry) => entry.name);
  assert.equal(temporaries.length, 1);
  assert.match(temporaries[0]!, /^d+\.tmp-[0-9a-z]+$/);
  assert.ok(temporaries[0]!.length <= 66, "no longer than the final name");
  const stored = await writer.commit();
  assert.equal((await Deno.stat(stored.diskPath)).size, 3 << 20);
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/dd`)].map((entry) => entry.name), [
    `${outputId}-d`,
  ]);
});

Deno.test("DiskStore's abort() leaves nothing behind", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  const writer = store.startPut({ actionId: ACTION, outputId: "d".repeat(64), size: 2 << 20 });
  await writer.write(new Uint8Array(2 << 20));
  await writer.abort();
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/dd`)], []);
  assert.equal(store.get(ACTION), undefined);
});

Deno.test("DiskStore instances sharing a directory never see a partial file", async () => {
  await using dir = await tempDir();
  const stores = await Promise.all([DiskStore.open(dir.path), DiskStore.open(dir.path)]);
  const body = new Uint8Array(2 << 20).fill(1);
  const outputId = "e".repeat(64);
  const writers = stores.map((store, i) =>
    store.startPut({ actionId: String(i).repeat(64), outputId, size: body.length })
  );
  const reads: (Hit | undefined)[] = [];
  await Promise.all(writers.map(async (writer, i) => {
    for (let offset = 0; offset < body.length; offset += 65536) {
      await writer.write(body.subarray(offset, offset + 65536));
      reads.push(stores[1 - i]!.get(String(1 - i).repeat(64)));
    }
    await writer.commit();
  }));
  for (const read of reads) {
    if (read !== undefined) assert.equal((await Deno.stat(read.diskPath)).size, body.length);
  }
  for (const store of stores) {
    assert.equal(store.get("0".repeat(64))?.size, body.length);
    assert.equal(store.get("1".repeat(64))?.size, body.length);
  }
});

Deno.test("DiskStore.open() refuses a relative directory", async () => {
  await assert.rejects(DiskStore.open("relative/dir"), /must be absolute/);
});

Deno.test("DiskStore.has() does not count as a use; get() refreshes use times at most hourly", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  const stored = await putChunks(store, { actionId: ACTION, outputId: HELLO_ID, size: 5 }, HELLO);
  const old = new Date(Date.now() - 3 * 3_600_000);
  for (const path of [store.entryPath(ACTION), stored.diskPath]) await Deno.utime(path, old, old);
  const mtime = async (path: string) => (await Deno.stat(path)).mtime!.getTime();
  assert.equal(store.has(ACTION), true);
  assert.equal(await mtime(stored.diskPath), old.getTime(), "has() left the use time alone");
  assert.equal(store.has("f".repeat(64)), false);
  store.get(ACTION);
  assert.ok(await mtime(stored.diskPath) > old.getTime(), "get() refreshed the output's use time");
  assert.ok(await mtime(store.entryPath(ACTION)) > old.getTime(), "and the entry's");
  await Deno.remove(stored.diskPath);
  assert.equal(store.has(ACTION), true, "has() is the cheap check: the entry file only");
  assert.equal(store.get(ACTION), undefined, "get() checks everything");
});

Deno.test("DiskStore.storeFetched() in the background writes the same files as a put, and leaves an output in place alone", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path, { keepComputeTimes: true });
  const request = { actionId: ACTION, outputId: HELLO_ID, size: 5, computeMillis: 42 };
  const stored = await store.storeFetched(request, HELLO, "background");
  assert.equal(await Deno.readTextFile(stored.diskPath), "hello");
  assert.deepEqual(store.get(ACTION), { ...stored, computeMillis: 42 });
  const viaPut = await DiskStore.open(`${dir.path}/put`, { keepComputeTimes: true });
  const put = await viaPut.startPut({ ...request, timeNanos: stored.timeNanos });
  await put.write(HELLO);
  await put.commit();
  for (const file of [`a0/${ACTION}-a`, `a0/${ACTION}-s`, `2c/${HELLO_ID}-d`]) {
    assert.equal(
      await Deno.readTextFile(`${dir.path}/${file}`),
      await Deno.readTextFile(`${dir.path}/put/${file}`),
      file,
    );
  }
  // Another process may be reading an output already in place: it is not replaced.
  const before = (await Deno.stat(stored.diskPath)).ino;
  await store.storeFetched(request, HELLO, "background");
  assert.equal((await Deno.stat(stored.diskPath)).ino, before);
});

Deno.test("DiskStore keeps compute times only when asked: without keepComputeTimes, no -s file", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  const request = { actionId: ACTION, outputId: HELLO_ID, size: 5, computeMillis: 42 };
  const stored = await putChunks(store, request, HELLO);
  await store.storeFetched({ ...request, actionId: "c".repeat(64) }, HELLO, "background");
  assert.deepEqual(store.get(ACTION), stored, "no compute time on the hit");
  const names = [...Deno.readDirSync(`${dir.path}/a0`)].map((entry) => entry.name);
  assert.deepEqual(names, [`${ACTION}-a`]);
  assert.equal(
    [...Deno.readDirSync(`${dir.path}/cc`)].some((entry) => entry.name.endsWith("-s")),
    false,
  );
});

Deno.test("DiskStore.storeFetched() for a get answers once the output is in place, serves the entry meanwhile, and writes it when idle, or at close()", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  const request = { actionId: ACTION, outputId: HELLO_ID, size: 5, timeNanos: 7n };
  const hit = await store.storeFetched(request, HELLO, "demand");
  assert.equal(await Deno.readTextFile(hit.diskPath), "hello", "the output is in place");
  assert.equal(fileExists(store.entryPath(ACTION)), false, "the entry waits");
  assert.deepEqual(store.get(ACTION), hit, "a get meanwhile finds it");
  assert.equal(store.has(ACTION), true);
  store.background.runDeferred();
  assert.match(await Deno.readTextFile(store.entryPath(ACTION)), new RegExp(`^v1 ${ACTION} `));
  const reopened = await DiskStore.open(dir.path);
  assert.deepEqual(reopened.get(ACTION), hit, "another process finds the entry");
  const other = "c".repeat(64);
  await store.storeFetched({ ...request, actionId: other }, HELLO, "demand");
  await store.close();
  assert.ok(fileExists(store.entryPath(other)), "close() writes what was still deferred");
});

Deno.test("DiskStore: a put after a remote hit of the same action is not undone by the deferred entry", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  await store.storeFetched(
    { actionId: ACTION, outputId: HELLO_ID, size: 5, timeNanos: 7n },
    HELLO,
    "demand",
  );
  const put = await putChunks(
    store,
    { actionId: ACTION, outputId: HELLO_ID, size: 5, timeNanos: 9n },
    HELLO,
  );
  store.background.runDeferred();
  assert.equal(store.get(ACTION)?.timeNanos, 9n);
  assert.deepEqual(store.get(ACTION), put);
});

Deno.test("DiskStore.storeFetched() defers at most a few entries when nobody runs the deferred work", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  const actions = Array.from({ length: 100 }, (_, i) => i.toString(16).padStart(64, "0"));
  for (const actionId of actions) {
    await store.storeFetched({ actionId, outputId: HELLO_ID, size: 5 }, HELLO, "demand");
  }
  const written = actions.filter((actionId) => fileExists(store.entryPath(actionId))).length;
  assert.ok(written >= 30, `${written} of 100 entries written without runDeferred()`);
  await store.close();
  assert.ok(actions.every((actionId) => fileExists(store.entryPath(actionId))));
});

function fileExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("DiskStore.storeFetched() writes a body over 1 MiB off the event loop, completely", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  const body = new Uint8Array((1 << 20) + 3).fill(7);
  const outputId = await sha256HexOffThread(body);
  const hit = await store.storeFetched(
    { actionId: ACTION, outputId, size: body.length },
    body,
    "demand",
  );
  assert.deepEqual(await Deno.readFile(hit.diskPath), body);
  assert.deepEqual(store.get(ACTION), hit);
  await store.close();
});

Deno.test("DiskStore.storeFetched() never stores a body that is not its entry's, whoever waits", async () => {
  await using dir = await tempDir();
  for (const backgroundOnEventLoop of [false, true]) {
    const store = await DiskStore.open(dir.path, { backgroundOnEventLoop });
    for (const urgency of ["demand", "background"] as const) {
      const request = { actionId: ACTION, outputId: HELLO_ID, size: 5 };
      await assert.rejects(
        store.storeFetched(request, new TextEncoder().encode("jello"), urgency),
        CorruptEntryError,
      );
      await assert.rejects(
        store.storeFetched({ ...request, size: 4 }, HELLO, urgency),
        CorruptEntryError,
      );
      assert.equal(store.has(ACTION), false, `${urgency}: nothing stored`);
    }
    await store.close();
  }
  assert.deepEqual([...Deno.readDirSync(dir.path)], [], "not even a shard directory");
});

Deno.test("DiskStore.openOutput() reads a stored output in pieces, and is undefined once it is gone", async () => {
  await using dir = await tempDir();
  const store = await DiskStore.open(dir.path);
  const stored = await putChunks(store, { actionId: ACTION, outputId: HELLO_ID, size: 5 }, HELLO);
  {
    using body = await store.openOutput(HELLO_ID, 5);
    assert.equal(new TextDecoder().decode(await body!.read(1, 3)), "ell");
  }
  assert.equal(await store.openOutput(HELLO_ID, 4), undefined, "another size: not this output");
  await Deno.remove(stored.diskPath);
  assert.equal(await store.openOutput(HELLO_ID, 5), undefined);
});

Deno.test("DiskStore in a directory whose path is near the system's limit stores what fits, streamed bodies and replacements included", async () => {
  await using dir = await tempDir();
  // Components of 200 characters, up to a 4,000-character directory: its files' final
  // paths (4,070 characters) fit under Linux's 4,096; longer temporary names would not.
  let deep = dir.path;
  while (deep.length < 4000 - 201) deep += `/${"p".repeat(200)}`;
  deep += `/${"q".repeat(4000 - deep.length - 1)}`;
  assert.equal(deep.length, 4000);
  const store = await DiskStore.open(deep);
  const big = new Uint8Array(3 << 20).fill(9);
  const bigId = await sha256HexOffThread(big);
  const streamed = await putChunks(
    store,
    { actionId: ACTION, outputId: bigId, size: big.length },
    big,
  );
  assert.equal((await Deno.stat(streamed.diskPath)).size, big.length, "a streamed body");
  await Deno.writeTextFile(streamed.diskPath, "damaged"); // replaced by the next put, atomically
  await loadSha256();
  await putChunks(store, { actionId: "c".repeat(64), outputId: bigId, size: big.length }, big);
  assert.equal((await Deno.stat(streamed.diskPath)).size, big.length, "replaced");
  await store.storeFetched(
    { actionId: "d".repeat(64), outputId: HELLO_ID, size: 5 },
    HELLO,
    "background",
  );
  assert.equal(store.get("d".repeat(64))?.size, 5);
});
