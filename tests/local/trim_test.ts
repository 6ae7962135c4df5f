/** Trimming the local store: by age, by size, at most daily, resumable, concurrent. */
import assert from "node:assert/strict";
import { trimStore } from "../../src/local/trim.ts";
import { DiskStore } from "../../src/local/disk_store.ts";
import { loadSha256 } from "../../src/util/sha256.ts";
import { encodeNativeEntry } from "../../src/local/native_entry.ts";
import { measureStore } from "../../src/local/store_files.ts";
import { compiledPackages, goWorkspace, runGo } from "../support/go.ts";
import { CLI_ENTRY, gocacheprogValue, programArgv } from "../support/program.ts";
import { REPO_ROOT, tempDir } from "../support/tools.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Stores `count` entries of `size` bytes, each with a body of its own, and dates their
 * files `age(i)` ago. Written straight in the store's layout with synchronous calls: a
 * fixture of thousands of entries in a fraction of a second.
 */
async function fill(
  dir: string,
  count: number,
  size: number,
  age: (i: number) => number,
): Promise<string[]> {
  const sha256 = await loadSha256();
  const hex = (bytes: Uint8Array) => {
    const hash = sha256();
    hash.update(bytes);
    return hash.digestHex();
  };
  const store = await DiskStore.open(dir);
  const actions: string[] = [];
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const body = new Uint8Array(size);
    new DataView(body.buffer).setUint32(0, i);
    const actionId = hex(new TextEncoder().encode(`action ${i}`));
    const outputId = hex(body);
    const when = new Date(now - age(i));
    const files: [string, Uint8Array][] = [
      [store.outputPath(outputId), body],
      [
        store.entryPath(actionId),
        new TextEncoder().encode(
          encodeNativeEntry({ actionId, outputId, size, timeNanos: BigInt(now) * 1_000_000n }),
        ),
      ],
    ];
    for (const [path, bytes] of files) {
      Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      Deno.writeFileSync(path, bytes);
      Deno.utimeSync(path, when, when);
    }
    actions.push(actionId);
  }
  return actions;
}

Deno.test("trimStore() removes what was unused for longer than the age, and keeps what is in use", async () => {
  await using dir = await tempDir();
  const ages = [10 * DAY, 6 * DAY, 4 * DAY, 90 * 60_000, 0];
  const actions = await fill(dir.path, ages.length, 100, (i) => ages[i]!);
  const result = trimStore(dir.path, { ageMillis: 5 * DAY });
  assert.equal(result.ran, true);
  assert.equal(result.complete, true);
  const store = new DiskStore(dir.path);
  assert.deepEqual(actions.map((action) => store.get(action) !== undefined), [
    false,
    false,
    true,
    true,
    true,
  ]);
  const young = trimStore(dir.path, { ageMillis: 1, force: true });
  assert.equal(young.ran, true, "the forced pass ran");
  assert.equal(young.shardsScanned, 256);
  assert.equal(
    young.filesRemoved,
    0,
    "nothing used in the last two hours is removed, whatever the age",
  );
});

Deno.test("trimStore() runs at most once a day, and resumes a pass cut short by its budget", async () => {
  await using dir = await tempDir();
  await fill(dir.path, 300, 10, () => 30 * DAY);
  const first = trimStore(dir.path, { ageMillis: 5 * DAY, budgetMillis: 0 });
  assert.equal(first.ran, true);
  assert.equal(first.complete, false, "the budget cut it short");
  assert.equal(first.shardsScanned, 1);
  const second = trimStore(dir.path, { ageMillis: 5 * DAY });
  assert.equal(second.ran, true, "a pass in progress is resumed at once");
  assert.equal(second.complete, true);
  assert.equal(measureStore(dir.path).entries, 0);
  assert.equal(trimStore(dir.path, { ageMillis: 5 * DAY }).ran, false, "done for today");
  assert.equal(
    trimStore(dir.path, { ageMillis: 5 * DAY, now: Date.now() + DAY + 1 }).ran,
    true,
    "due a day later",
  );
});

Deno.test("trimStore() with a size cap holds the store within 5% under the cap, oldest out first", async () => {
  await using dir = await tempDir();
  const count = 1000;
  const actions = await fill(dir.path, count, 4096, (i) => 3 * HOUR + (count - i) * 60_000); // older first
  const before = measureStore(dir.path).bytes;
  const cap = Math.floor(before / 2);
  const result = trimStore(dir.path, { ageMillis: 30 * DAY, maxSizeBytes: cap });
  const after = measureStore(dir.path).bytes;
  assert.ok(after <= cap, `${after} > cap ${cap}`);
  assert.ok(after >= cap * 0.95, `${after} is more than 5% under the cap ${cap}`);
  assert.equal(result.bytesKept, after);
  const store = new DiskStore(dir.path);
  const keptNewest = actions.slice(-100).filter((action) => store.get(action) !== undefined).length;
  const keptOldest =
    actions.slice(0, 100).filter((action) => store.get(action) !== undefined).length;
  assert.ok(
    keptNewest > keptOldest * 3,
    `kept ${keptNewest} of the newest, ${keptOldest} of the oldest`,
  );
});

Deno.test("trimStore() never removes a file younger than two hours, even over the cap", async () => {
  await using dir = await tempDir();
  await fill(dir.path, 50, 4096, () => 30 * 60_000);
  const result = trimStore(dir.path, { ageMillis: 1, maxSizeBytes: 1 });
  assert.equal(result.ran, true, "the pass ran");
  assert.equal(result.complete, true, "over every shard");
  assert.equal(result.filesRemoved, 0);
  assert.equal(result.bytesKept, 50 * (4096 + 175), "every file was seen, and kept");
});

Deno.test("gocacheprog trim runs in several processes at once without errors", async () => {
  await using dir = await tempDir();
  await fill(dir.path, 400, 100, (i) => (i % 2 === 0 ? 30 * DAY : 0));
  const trims = await Promise.all([0, 1, 2].map(() =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        `--config=${REPO_ROOT}/deno.json`,
        `--allow-read=${dir.path}`,
        `--allow-write=${dir.path}`,
        CLI_ENTRY,
        "trim",
        "--dir",
        dir.path,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output()
  ));
  for (const trim of trims) assert.equal(trim.code, 0, new TextDecoder().decode(trim.stderr));
  assert.equal(measureStore(dir.path).entries, 200, "exactly the old half is gone");
});

Deno.test("a trim during a running build removes old entries but nothing the build uses", async () => {
  await using work = await goWorkspace();
  const { module, gocache } = work;
  await fill(gocache, 200, 100, () => 30 * DAY); // stale entries of no use to anybody
  const gocacheprog = gocacheprogValue(programArgv({ dir: gocache, passDir: false }));
  const build = runGo(["build", "./..."], { cwd: module, gocache, gocacheprog });
  let removed = 0;
  for (let i = 0; i < 5; i++) {
    removed += trimStore(gocache, { ageMillis: 1, force: true }).filesRemoved;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const result = await build;
  assert.equal(result.code, 0, result.stderr);
  assert.ok(removed >= 400, `removed ${removed} files of the stale entries`);
  const again = await runGo(["build", "-x", "./..."], { cwd: module, gocache, gocacheprog });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(compiledPackages(again.stderr), [], "nothing the build used was removed");
});
