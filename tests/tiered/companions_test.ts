/** Stdout companions fetched with their compile; over an in-memory remote. */
import assert from "node:assert/strict";
import type { Hit } from "../../src/store.ts";
import { Companions } from "../../src/tiered/companions.ts";
import { Fetcher } from "../../src/tiered/fetcher.ts";
import { subkey } from "../../src/tiered/subkey.ts";
import { loadSha256 } from "../../src/util/sha256.ts";
import { MemoryRemoteStore } from "../support/memory_remote_store.ts";
import { tierParts } from "../support/tier_parts.ts";
import { remoteEntryOf } from "../support/stores.ts";
import { tempDir } from "../support/tools.ts";
import { id } from "../support/vectors.ts";
import { settle } from "../support/fake_clock.ts";

async function setUp(dir: string) {
  const remote = new MemoryRemoteStore();
  const parts = await tierParts(dir, remote);
  const fetcher = new Fetcher(parts);
  const companions = new Companions({ ...parts, enabled: true, fetcher });
  return { remote, parts, fetcher, companions, sha256: await loadSha256() };
}

Deno.test("Companions fetch a compile's stdout entry in the same round trip, and count its use", async () => {
  await using dir = await tempDir();
  const { remote, parts, fetcher, companions, sha256 } = await setUp(dir.path);
  const companion = subkey(sha256, id(1), "stdout");
  remote.entries.set(id(1), await remoteEntryOf(new TextEncoder().encode("archive")));
  remote.entries.set(companion, await remoteEntryOf(new Uint8Array(0)));
  remote.hold();
  const fetch = fetcher.demand(id(1)) as Promise<Hit | undefined>;
  companions.follow(id(1), fetch);
  await settle();
  assert.deepEqual(
    remote.callsOf("get").map((call) => call.key),
    [id(1), companion],
    "both asked before either is answered",
  );
  remote.release();
  await fetch;
  await settle();
  assert.deepEqual(companions.counters(), { companionsFetched: 1, companionsUsed: 0 });
  assert.ok(parts.local.get(companion) !== undefined, "stored locally");
  companions.noteGet(companion);
  assert.deepEqual(companions.counters(), { companionsFetched: 1, companionsUsed: 1 });
  assert.equal(fetcher.counters().demandRoundTrips, 1, "the companion is no demand round trip");
});

Deno.test("Companions keep nothing when the compile missed, and stop when few are used", async () => {
  await using dir = await tempDir();
  const { remote, parts, fetcher, companions, sha256 } = await setUp(dir.path);
  for (let n = 0; n < 64; n++) {
    remote.entries.set(id(n), await remoteEntryOf(new TextEncoder().encode(`archive ${n}`)));
    remote.entries.set(subkey(sha256, id(n), "stdout"), await remoteEntryOf(new Uint8Array(0)));
    const fetch = fetcher.fetch(id(n), "companion");
    companions.follow(id(n), fetch);
    await fetch;
    await settle();
  }
  assert.equal(companions.counters().companionsFetched, 64);
  const before = remote.callsOf("get").length;
  const fetch = fetcher.fetch(id(100), "companion");
  companions.follow(id(100), fetch);
  await fetch;
  await settle();
  assert.equal(remote.callsOf("get").length, before + 1, "none used: no companion asked");
  assert.equal(parts.local.has(subkey(sha256, id(100), "stdout")), false);
});
