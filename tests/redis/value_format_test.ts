import assert from "node:assert/strict";
import {
  CHUNK_BYTES,
  chunkKey,
  decodeHeader,
  encodeEntry,
  entryKey,
  HEADER_BYTES,
  keyNamespace,
} from "../../src/redis/value_format.ts";

const OUTPUT = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

Deno.test("encodeEntry() and decodeHeader() agree, and split long bodies into chunks", () => {
  const stored = new Uint8Array(CHUNK_BYTES * 2 + 10).map((_, i) => i & 0xff);
  const { head, chunks } = encodeEntry({
    outputId: OUTPUT,
    size: 5,
    timeNanos: 42n,
    encoding: "zstd",
  }, stored);
  assert.equal(head.length, HEADER_BYTES + CHUNK_BYTES);
  assert.deepEqual(chunks.map((chunk) => chunk.length), [CHUNK_BYTES, 10]);
  assert.deepEqual(decodeHeader(head), {
    outputId: OUTPUT,
    size: 5,
    timeNanos: 42n,
    encoding: "zstd",
    storedSize: stored.length,
    chunkCount: 3,
    chunkSize: CHUNK_BYTES,
  });
  const small = encodeEntry(
    { outputId: OUTPUT, size: 0, timeNanos: 1n, encoding: "none" },
    new Uint8Array(),
  );
  assert.equal(small.head.length, HEADER_BYTES);
  assert.equal(decodeHeader(small.head)?.chunkCount, 1);
});

Deno.test("decodeHeader() refuses what is not a header of this version", () => {
  const { head } = encodeEntry(
    { outputId: OUTPUT, size: 3, timeNanos: 1n, encoding: "none" },
    new Uint8Array(3),
  );
  assert.equal(decodeHeader(head.subarray(0, HEADER_BYTES - 1)), undefined, "truncated");
  const otherMagic = head.slice();
  otherMagic[0] = 0x58;
  assert.equal(decodeHeader(otherMagic), undefined);
  const otherVersion = head.slice();
  otherVersion[4] = 2;
  assert.equal(decodeHeader(otherVersion), undefined);
  const badCount = head.slice();
  new DataView(badCount.buffer).setUint32(64, 7, true);
  assert.equal(decodeHeader(badCount), undefined, "a chunk count that does not fit the size");
});

Deno.test("keys keep an action's values on one Cluster slot, under the prefix", () => {
  const namespace = keyNamespace("team");
  assert.equal(namespace, "gocacheprog:team:");
  assert.equal(keyNamespace(""), "gocacheprog:");
  const action = "a".repeat(64);
  assert.equal(entryKey(namespace, action), `gocacheprog:team:{${action}}`);
  assert.equal(
    chunkKey(namespace, { actionId: action, outputId: OUTPUT }, 2),
    `gocacheprog:team:{${action}}:2cf24dba5fb0a30e:2`,
  );
});
