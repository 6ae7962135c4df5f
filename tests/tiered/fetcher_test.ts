/** Remote fetches into the local store: joined, verified, stored; over an in-memory remote. */
import assert from "node:assert/strict";
import { Fetcher } from "../../src/tiered/fetcher.ts";
import { MemoryRemoteStore } from "../support/memory_remote_store.ts";
import { tierParts } from "../support/tier_parts.ts";
import { remoteEntryOf } from "../support/stores.ts";
import { tempDir } from "../support/tools.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);

Deno.test("Fetcher joins concurrent gets of one action into one remote get, and stores the hit", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  remote.entries.set(A, await remoteEntryOf(new TextEncoder().encode("archive")));
  const parts = await tierParts(dir.path, remote);
  const fetcher = new Fetcher({ ...parts, readOnly: false });
  remote.hold();
  const gets = [fetcher.demand(A), fetcher.demand(A), fetcher.fetch(A, { background: true })];
  assert.ok(fetcher.isFetching(A));
  remote.release();
  const hits = await Promise.all(gets);
  assert.equal(remote.callsOf("get").length, 1);
  for (const hit of hits) assert.equal(hit?.source, "remote");
  assert.equal(parts.local.get(A)?.outputId, hits[0]!.outputId, "now local");
  assert.equal(parts.metrics.remoteHits, 1);
  assert.equal(fetcher.active, false);
});

Deno.test("Fetcher never stores a corrupt value: a miss, counted, said once, deleted unless read-only", async () => {
  for (const readOnly of [false, true]) {
    await using dir = await tempDir();
    const remote = new MemoryRemoteStore();
    const entry = await remoteEntryOf(new TextEncoder().encode("the real archive"));
    remote.entries.set(A, { ...entry, body: new TextEncoder().encode("the fake archive") });
    remote.entries.set(B, { ...entry, size: 3 });
    const parts = await tierParts(dir.path, remote);
    const fetcher = new Fetcher({ ...parts, readOnly });
    assert.equal(await fetcher.demand(A), undefined);
    assert.equal(await fetcher.demand(B), undefined);
    assert.equal(parts.metrics.corrupt, 2);
    assert.equal(parts.log.warnings().length, 1, parts.log.lines.join("\n"));
    assert.equal(parts.local.has(A), false);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(remote.callsOf("delete").length, readOnly ? 0 : 2);
  }
});

Deno.test("Fetcher answers a miss to a get that joined a failing prefetch", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const parts = await tierParts(dir.path, remote);
  const fetcher = new Fetcher({ ...parts, readOnly: false });
  remote.hold();
  const prefetch = fetcher.fetch(A, { background: true });
  const get = fetcher.demand(A);
  remote.fault = "refused";
  remote.release();
  await assert.rejects(prefetch, "the prefetch itself fails");
  assert.equal(await get, undefined, "the get is a miss, not an error");
  assert.equal(
    parts.link.allows(),
    true,
    "a prefetch's failure does not count against the breaker",
  );
});

Deno.test("Fetcher remembers remote misses, for the upload that follows", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const parts = await tierParts(dir.path, remote);
  const fetcher = new Fetcher({ ...parts, readOnly: false });
  assert.equal(await fetcher.demand(A), undefined);
  assert.equal(parts.metrics.remoteMisses, 1);
  assert.equal(fetcher.takeRemoteMiss(A), true);
  assert.equal(fetcher.takeRemoteMiss(A), false, "once");
  assert.equal(fetcher.takeRemoteMiss(B), false);
});

Deno.test("Fetcher's prefetches on the event loop (the prefetch command) verify and store as others do", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const good = await remoteEntryOf(new TextEncoder().encode("archive"));
  remote.entries.set(A, good);
  remote.entries.set(B, { ...good, body: new TextEncoder().encode("archivf") });
  const parts = await tierParts(dir.path, remote);
  const fetcher = new Fetcher({ ...parts, readOnly: false, prefetchOnEventLoop: true });
  const hit = await fetcher.fetch(A, { background: true });
  assert.equal(hit?.outputId, good.outputId);
  assert.equal(await fetcher.fetch(B, { background: true }), undefined, "a corrupt body");
  assert.equal(parts.metrics.corrupt, 1);
  await parts.local.close(); // the entry file is written after the answer
  assert.equal((await tierParts(dir.path, remote)).local.get(A)?.outputId, good.outputId);
  assert.equal(parts.local.get(B), undefined);
});
