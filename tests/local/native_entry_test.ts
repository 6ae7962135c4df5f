import assert from "node:assert/strict";
import {
  encodeNativeEntry,
  NATIVE_ENTRY_BYTES,
  parseNativeEntry,
} from "../../src/local/native_entry.ts";

const ENTRY = {
  actionId: "a05ab2cd314eed12ab0fcdecaa46dc121c69370bc8d37d72be6ca989464f76c4",
  outputId: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
  size: 5,
  timeNanos: 1795815490036073000n,
};

Deno.test("encodeNativeEntry() writes the go command's format byte for byte", () => {
  const text = encodeNativeEntry(ENTRY);
  assert.equal(text.length, NATIVE_ENTRY_BYTES);
  // fmt.Sprintf("v1 %x %x %20d %20d\n", id, out, size, time.Now().UnixNano())
  assert.equal(
    text,
    `v1 ${ENTRY.actionId} ${ENTRY.outputId} ${" ".repeat(19)}5  1795815490036073000\n`,
  );
});

Deno.test("parseNativeEntry() reads what encodeNativeEntry() writes", () => {
  assert.deepEqual(parseNativeEntry(encodeNativeEntry(ENTRY)), ENTRY);
});

Deno.test("parseNativeEntry() refuses what the go command refuses", () => {
  const good = encodeNativeEntry(ENTRY);
  assert.equal(parseNativeEntry(good.slice(0, -1)), undefined, "too short");
  assert.equal(parseNativeEntry(good + "x"), undefined, "too long");
  assert.equal(parseNativeEntry("v2" + good.slice(2)), undefined, "other version");
  assert.equal(parseNativeEntry(good.replace("a05a", "g05a")), undefined, "not hex");
  assert.equal(parseNativeEntry(good.replace("   5 ", "  -5 ")), undefined, "negative size");
});
