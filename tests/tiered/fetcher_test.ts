/** Remote fetches into the local store: joined, checked, stored, counted; over an in-memory remote. */
import assert from "node:assert/strict";
import { Fetcher } from "../../src/tiered/fetcher.ts";
import { DiskStore } from "../../src/local/disk_store.ts";
import { MemoryRemoteStore } from "../support/memory_remote_store.ts";
import { tierParts } from "../support/tier_parts.ts";
import { remoteEntryOf } from "../support/stores.ts";
import { tempDir } from "../support/tools.ts";
import { settle } from "../support/fake_clock.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);

Deno.test("Fetcher joins concurrent gets of one action into one remote get, and stores the hit", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  remote.entries.set(A, await remoteEntryOf(new TextEncoder().encode("archive")));
  const parts = await tierParts(dir.path, remote);
  const fetcher = new Fetcher(parts);
  remote.hold();
  const gets = [fetcher.demand(A), fetcher.demand(A), fetcher.fetch(A, "prefetch")];
  assert.ok(fetcher.isFetching(A));
  remote.release();
  const hits = await Promise.all(gets);
  assert.equal(remote.callsOf("get").length, 1);
  for (const hit of hits) assert.equal(hit?.source, "remote");
  assert.equal(parts.local.get(A)?.outputId, hits[0]!.outputId, "now local");
  const counters = fetcher.counters();
  assert.equal(counters.demandFound, 2);
  assert.equal(counters.demandRoundTrips, 1);
  assert.equal(counters.demandJoined, 1);
  assert.equal(counters.bytesDownloaded, 7, "one download");
  assert.equal(fetcher.busy(), false);
});

Deno.test("Fetcher never stores a corrupt value: a miss, counted, said once, deleted unless read-only", async () => {
  for (const readOnly of [false, true]) {
    await using dir = await tempDir();
    const remote = new MemoryRemoteStore();
    const entry = await remoteEntryOf(new TextEncoder().encode("the real archive"));
    remote.entries.set(A, { ...entry, body: new TextEncoder().encode("the fake archive") });
    remote.entries.set(B, { ...entry, size: 3 });
    const parts = await tierParts(dir.path, remote, { readOnly });
    const fetcher = new Fetcher(parts);
    assert.equal(await fetcher.demand(A), undefined);
    assert.equal(await fetcher.demand(B), undefined);
    assert.equal(fetcher.counters().corrupt, 2);
    assert.equal(fetcher.counters().demandCorrupt, 2);
    assert.equal(parts.log.warnings().length, 1, parts.log.lines.join("\n"));
    assert.equal(parts.local.has(A), false);
    await settle();
    assert.equal(remote.callsOf("delete").length, readOnly ? 0 : 2);
  }
});

Deno.test("Fetcher releases each body the remote lent it once it is stored, or refused as corrupt", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const parts = await tierParts(dir.path, remote);
  const released: string[] = [];
  // Each release says whether the body was in the local store by then.
  const releaseOf = (actionId: string) => () =>
    released.push(`${actionId[0]} ${parts.local.has(actionId) ? "stored" : "not stored"}`);
  const entry = await remoteEntryOf(new TextEncoder().encode("the real archive"));
  remote.entries.set(A, { ...entry, release: releaseOf(A) });
  const fake = new TextEncoder().encode("the fake archive");
  remote.entries.set(B, { ...entry, body: fake, release: releaseOf(B) });
  const fetcher = new Fetcher(parts);
  assert.equal((await fetcher.demand(A))?.source, "remote");
  assert.deepEqual(released, ["a stored"], "once stored");
  assert.equal(await fetcher.demand(B), undefined);
  assert.deepEqual(released, ["a stored", "b not stored"], "a corrupt one too");
});

Deno.test("Fetcher answers a miss to a get that joined a failing prefetch, and holds no prefetch failure against the remote", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const parts = await tierParts(dir.path, remote);
  const fetcher = new Fetcher(parts);
  remote.hold();
  const prefetch = fetcher.fetch(A, "prefetch");
  const get = fetcher.demand(A);
  remote.fault = "refused";
  remote.release();
  await assert.rejects(prefetch, "the prefetch itself fails");
  assert.equal(await get, undefined, "the get is a miss, not an error");
  assert.equal(fetcher.counters().demandRoundTrips, 1, "the get asked for itself");
  assert.equal(fetcher.counters().demandErrors, 1);
  remote.fault = "refused";
  for (let i = 0; i < 5; i++) await fetcher.fetch(B, "prefetch").catch(() => {});
  assert.equal(parts.link.allows(), true, "prefetch failures never open the breaker");
});

Deno.test("Fetcher remembers remote misses, for the upload that follows", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const parts = await tierParts(dir.path, remote);
  const fetcher = new Fetcher(parts);
  assert.equal(await fetcher.demand(A), undefined);
  assert.equal(fetcher.counters().demandMisses, 1);
  assert.equal(fetcher.takeRemoteMiss(A), true);
  assert.equal(fetcher.takeRemoteMiss(A), false, "once");
  assert.equal(fetcher.takeRemoteMiss(B), false);
});

Deno.test("Fetcher does not ask a remote whose breaker is open, and says why it missed", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const parts = await tierParts(dir.path, remote);
  const fetcher = new Fetcher(parts);
  remote.fault = "frozen";
  const first = fetcher.demand(A);
  await parts.clock.advance(50);
  assert.equal(await first, undefined);
  assert.equal(fetcher.demand(B), undefined, "answered at once: the breaker is open");
  assert.equal(remote.callsOf("get").length, 1);
  const counters = fetcher.counters();
  assert.deepEqual(
    [counters.demandErrors, counters.demandSkipped, counters.demandRoundTrips],
    [1, 1, 1],
  );
  assert.equal(counters.demandWaitMillis, 50, "waited the deadline, on the tier's clock");
});

Deno.test("Fetcher's prefetches for a process that serves no go command check and store as others do", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const good = await remoteEntryOf(new TextEncoder().encode("archive"));
  remote.entries.set(A, good);
  remote.entries.set(B, { ...good, body: new TextEncoder().encode("archivf") });
  const parts = await tierParts(dir.path, remote);
  const local = new DiskStore(dir.path, { backgroundOnEventLoop: true });
  const fetcher = new Fetcher({ ...parts, local });
  const hit = await fetcher.fetch(A, "prefetch");
  assert.equal(hit?.outputId, good.outputId);
  assert.equal(await fetcher.fetch(B, "prefetch"), undefined, "a corrupt body");
  assert.equal(fetcher.counters().corrupt, 1);
  await local.close(); // the entry file is written after the answer
  assert.equal(new DiskStore(dir.path).get(A)?.outputId, good.outputId);
  assert.equal(new DiskStore(dir.path).get(B), undefined);
});
