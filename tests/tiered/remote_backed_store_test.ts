/**
 * The remote-backed store's coordination over an in-memory remote: local first, remote
 * on a miss, uploads after puts, read-only, faults, manifests and the prefetch they
 * drive. The same store over a real Redis is in `remote_backed_store_redis_test.ts`.
 */
import assert from "node:assert/strict";
import type { ManifestOptions } from "../../src/tiered/manifest_session.ts";
import type { Hit } from "../../src/store.ts";
import { DiskStore } from "../../src/local/disk_store.ts";
import { decodeManifest } from "../../src/manifest_format.ts";
import { MemoryRemoteStore } from "../support/memory_remote_store.ts";
import { remoteBackedStore } from "../support/tier_parts.ts";
import { putBytes, remoteEntryOf } from "../support/stores.ts";
import { tempDir } from "../support/tools.ts";
import { id } from "../support/vectors.ts";
import { settle } from "../support/fake_clock.ts";

function manifests(write: boolean, own = "ref:main"): ManifestOptions {
  return {
    scopes: {
      buildType: "unit",
      own,
      default: "ref:main",
      writesDefault: own === "ref:main",
      toolchain: "",
    },
    write,
    prefetchMaxBytes: 1 << 20,
  };
}

Deno.test("RemoteBackedStore answers locally first, then from the remote, and keeps remote hits locally", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  remote.entries.set(id(1), await remoteEntryOf(new TextEncoder().encode("from the remote")));
  const { store } = await remoteBackedStore(dir.path, remote, { speculate: false });
  const local = await putBytes(store, id(2), new TextEncoder().encode("local"));
  const localHit = store.get(id(2));
  assert.deepEqual(localHit, local, "a local hit is answered at once");
  const remoteHit = await store.get(id(1));
  assert.equal(remoteHit?.source, "remote");
  assert.equal(await Deno.readTextFile(remoteHit!.diskPath), "from the remote");
  assert.equal((store.get(id(1)) as Hit | undefined)?.source, undefined, "then local");
  assert.equal(await store.get(id(3)), undefined);
  // The go command's gets ask and claim in one call (single flight is on by default).
  assert.deepEqual(remote.callsOf("getOrClaim").map((call) => call.key), [id(1), id(3)]);
  assert.equal(remote.callsOf("get").length, 0);
  assert.equal(remote.leases.get(id(3))?.owner !== undefined, true, "the miss is claimed");
  await store.close();
  assert.equal(remote.leases.size, 0, "and released at close, never put");
  assert.ok(remote.closed);
});

Deno.test("RemoteBackedStore answers a put once it is local, uploads it after, and never in read-only mode", async () => {
  for (const readOnly of [false, true]) {
    await using dir = await tempDir();
    const remote = new MemoryRemoteStore();
    const { store } = await remoteBackedStore(dir.path, remote, { readOnly });
    remote.hold();
    const hit = await putBytes(store, id(1), new TextEncoder().encode("compiled"));
    assert.ok(hit.diskPath.startsWith(dir.path), "answered while the remote is held");
    remote.release();
    await store.close();
    assert.equal(remote.entries.has(id(1)), !readOnly);
    assert.equal(store.metrics.record().uploads, readOnly ? 0 : 1);
  }
});

Deno.test("RemoteBackedStore with a frozen remote: one deadline, then misses at once, and puts still work", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore({ timeoutMillis: 50 });
  const { store, log, clock } = await remoteBackedStore(dir.path, remote);
  remote.fault = "frozen";
  const first = Promise.all([store.get(id(1)), store.get(id(2))]);
  await clock.advance(50);
  assert.deepEqual(await first, [undefined, undefined], "one deadline");
  for (let n = 3; n < 50; n++) assert.equal(store.get(id(n)), undefined, "answered at once");
  assert.equal(store.metrics.record().demandSkipped, 47);
  assert.ok((await putBytes(store, id(1), new TextEncoder().encode("still stored"))).diskPath);
  await store.close();
  assert.equal(log.warnings().length, 1, log.lines.join("\n"));
});

Deno.test("RemoteBackedStore writes the build's manifest at close, and prefetches from it in manifest order", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const first = await remoteBackedStore(`${dir.path}/a`, remote, { manifests: manifests(true) });
  for (let n = 1; n <= 5; n++) {
    await putBytes(first.store, id(n), new TextEncoder().encode(`archive ${n}`));
  }
  await first.store.close();
  const written = [...remote.manifests.values()];
  assert.equal(written.length, 1, "on the default branch, its own scope is the default's");
  assert.equal(remote.callsOf("writeManifest").length, 1, "written once, not appended twice");
  assert.deepEqual(
    decodeManifest(written[0]!)?.records.map((r) => r.actionId),
    [1, 2, 3, 4, 5].map(id),
  );

  await putBytes(
    await DiskStore.open(`${dir.path}/b`),
    id(3),
    new TextEncoder().encode("archive 3"),
  );
  const second = await remoteBackedStore(`${dir.path}/b`, remote, { manifests: manifests(false) });
  const outcome = await second.store.prefetchFinished();
  assert.deepEqual(outcome, { remoteAvailable: true, planned: 4, fetched: 4, fetchedBytes: 36 });
  const prefetched = remote.callsOf("get").filter((call) => call.background);
  assert.deepEqual(
    prefetched.map((call) => call.key),
    [1, 2, 4, 5].map(id),
    "in order, the local one skipped",
  );
  for (const n of [1, 2, 4, 5]) {
    const hit = second.store.get(id(n));
    assert.ok(hit !== undefined && !(hit instanceof Promise), `${n} is local now`);
  }
  assert.equal(second.store.metrics.record().prefetchUsed, 4);
  await second.store.close();
  assert.equal(remote.callsOf("writeManifest").length, 1, "the second wrote none");
});

Deno.test("RemoteBackedStore on a branch writes its own scope's manifest, never the default's", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const { store } = await remoteBackedStore(dir.path, remote, {
    manifests: manifests(true, "ref:feature"),
  });
  await putBytes(store, id(1), new TextEncoder().encode("archive"));
  await store.close();
  assert.deepEqual([...remote.manifests.keys()].map((name) => name.slice(17)), ["ref:feature"]);
});

Deno.test("RemoteBackedStore's prefetch says when the remote could not be used", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore({ ready: false });
  const { store } = await remoteBackedStore(dir.path, remote, { manifests: manifests(false) });
  assert.equal((await store.prefetchFinished()).remoteAvailable, false);
  await store.close();
});

Deno.test("RemoteBackedStore says nothing of its own close: a manifest read or a companion cut off by it is no failure", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  remote.entries.set(id(1), await remoteEntryOf(new TextEncoder().encode("archive")));
  const { store, log } = await remoteBackedStore(dir.path, remote, { manifests: manifests(false) });
  remote.hold(); // the manifest read, and everything after it, waits
  await remote.untilCalled("readManifests");
  const get = store.get(id(1)); // and a get with its companion
  await settle();
  await store.close(); // the go command finished first
  assert.equal(await get, undefined, "cut off: a miss");
  assert.deepEqual(log.warnings(), []);
  const record = store.metrics.record();
  assert.equal(record.breakerTrips, 0);
  assert.equal(record.demandErrors, 0, "nothing counted against the remote");
});

Deno.test("RemoteBackedStore leaves a remote failure during the manifest read to the link: no warning of its own", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  remote.fault = "refused";
  const { store, log } = await remoteBackedStore(dir.path, remote, { manifests: manifests(false) });
  await store.prefetchFinished();
  for (let n = 1; n <= 3; n++) await store.get(id(n));
  await store.close();
  assert.equal(log.warnings().length, 1, log.lines.join("\n"));
  assert.match(log.warnings()[0]!, /memory remote is unavailable/);
});

Deno.test("RemoteBackedStore keeps the manifests of other toolchains apart: a Go-version matrix never prefetches the other's", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const on = (toolchain: string, write: boolean): ManifestOptions => ({
    ...manifests(write),
    scopes: { ...manifests(write).scopes, toolchain },
  });
  const go126 = await remoteBackedStore(`${dir.path}/a`, remote, {
    manifests: on("GOVERSION=go1.26.8", true),
  });
  for (let n = 1; n <= 3; n++) {
    await putBytes(go126.store, id(n), new TextEncoder().encode(`go1.26 ${n}`));
  }
  await go126.store.close();
  const go127 = await remoteBackedStore(`${dir.path}/b`, remote, {
    manifests: on("GOVERSION=go1.27.3", false),
  });
  assert.equal((await go127.store.prefetchFinished()).planned, 0, "no manifest of its own yet");
  await go127.store.close();
  const again126 = await remoteBackedStore(`${dir.path}/c`, remote, {
    manifests: on("GOVERSION=go1.26.8", false),
  });
  assert.equal((await again126.store.prefetchFinished()).fetched, 3, "its own version's manifest");
  await again126.store.close();
});
