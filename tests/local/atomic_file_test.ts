import assert from "node:assert/strict";
import {
  createFile,
  createFileSync,
  createOrReplaceFile,
  createOrReplaceFileSync,
} from "../../src/local/atomic_file.ts";
import { isTemporaryFileName } from "../../src/local/store_files.ts";
import { tempDir } from "../support/tools.ts";

const encode = (text: string) => new TextEncoder().encode(text);

Deno.test("createFileSync() creates a file in place, with its directory, and never overwrites one", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/ab/file-d`;
  assert.equal(createFileSync(path, encode("first")), true);
  assert.equal(createFileSync(path, encode("second")), false);
  assert.equal(await Deno.readTextFile(path), "first");
});

Deno.test("createOrReplaceFile(Sync)() replace an existing file by a rename, leaving no temporary file", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/ab/file-a`;
  createOrReplaceFileSync(path, encode("first"));
  const created = (await Deno.stat(path)).ino;
  createOrReplaceFileSync(path, encode("second"));
  assert.equal(await Deno.readTextFile(path), "second");
  assert.notEqual(
    (await Deno.stat(path)).ino,
    created,
    "a new inode: readers of the old one keep it",
  );
  await createOrReplaceFile(path, encode("third"));
  await createOrReplaceFile(`${dir.path}/cd/new-a`, encode("new"));
  assert.equal(await Deno.readTextFile(path), "third");
  assert.equal(await Deno.readTextFile(`${dir.path}/cd/new-a`), "new");
  const names = [...Deno.readDirSync(`${dir.path}/ab`)].map((entry) => entry.name);
  assert.deepEqual(names.filter(isTemporaryFileName), []);
});

Deno.test("createFile() and createOrReplaceFile() write a large body whole, through an open file, as they do a small one", async () => {
  await using dir = await tempDir();
  const large = new Uint8Array((3 << 20) + 7).map((_, i) => i % 251);
  const path = `${dir.path}/ab/large-d`;
  assert.equal(await createFile(path, large), true, "created, with its directory");
  assert.equal(await createFile(path, encode("other")), false, "never over an existing one");
  assert.deepEqual(await Deno.readFile(path), large);
  const replacement = large.map((byte) => 255 - byte);
  await createOrReplaceFile(path, replacement);
  assert.deepEqual(await Deno.readFile(path), replacement);
  const mode = (await Deno.stat(path)).mode! & 0o777;
  assert.equal(mode.toString(8), (0o666 & ~Deno.umask()).toString(8));
  const names = [...Deno.readDirSync(`${dir.path}/ab`)].map((entry) => entry.name);
  assert.deepEqual(names, ["large-d"]);
});

Deno.test("files are created 0666 less the umask, as the go command's cache does: never world-writable under 022", async () => {
  await using dir = await tempDir();
  const expected = 0o666 & ~Deno.umask();
  createFileSync(`${dir.path}/ab/created-d`, encode("in place"));
  createOrReplaceFileSync(`${dir.path}/ab/created-d`, encode("replaced"));
  await createOrReplaceFile(`${dir.path}/ab/async-a`, encode("async"));
  for (const name of ["created-d", "async-a"]) {
    const mode = (await Deno.stat(`${dir.path}/ab/${name}`)).mode! & 0o777;
    assert.equal(mode.toString(8), expected.toString(8), name);
  }
});
