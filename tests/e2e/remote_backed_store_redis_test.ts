/**
 * The remote-backed store over a real disk store and a real `redis-server`, with faults:
 * real sockets and the system's clock, where `tests/tiered/` uses an in-memory remote
 * and a fake clock.
 */
import assert from "node:assert/strict";
import type { RemoteBackedStore } from "../../src/tiered/remote_backed_store.ts";
import type { ManifestOptions } from "../../src/tiered/manifest_session.ts";
import { DiskStore } from "../../src/local/disk_store.ts";
import { openRedisStore } from "../../src/redis/redis_store.ts";
import { entryKey, keyNamespace, manifestKey } from "../../src/redis/value_format.ts";
import { encodeManifestHeader, encodeManifestRecords } from "../../src/manifest_format.ts";
import { SYSTEM_CLOCK } from "../../src/util/clock.ts";
import { id } from "../support/vectors.ts";
import { startRedis } from "../support/redis_server.ts";
import { spawnLatencyProxy } from "../support/latency_proxy.ts";
import { remoteBackedStore } from "../support/tier_parts.ts";
import { freePort, tempDir } from "../support/tools.ts";
import { putBytes, putChunks, randomBytes } from "../support/stores.ts";
import { loadSha256, sha256HexOffThread, sha256HexOfText } from "../../src/util/sha256.ts";
import { subkey } from "../../src/tiered/subkey.ts";

const ACTION = "c".repeat(64);

interface Tiered {
  store: RemoteBackedStore;
  logs: string[];
  dir: string;
}

async function tiered(
  dir: string,
  port: number,
  options: { readOnly?: boolean; uploadWaitMillis?: number; manifests?: ManifestOptions } = {},
) {
  const { store, log } = await remoteBackedStore(
    dir,
    openRedisStore({
      urls: [`127.0.0.1:${port}`],
      prefix: "tier",
      ttlMillis: 60_000,
      timeoutMillis: 300,
      compress: "none",
    }),
    {
      timeoutMillis: 300,
      uploadWaitMillis: options.uploadWaitMillis ?? 3000,
      readOnly: options.readOnly ?? false,
      clock: SYSTEM_CLOCK,
      ...(options.manifests === undefined ? {} : { manifests: options.manifests }),
    },
  );
  return { store, logs: log.lines, dir } satisfies Tiered;
}

/** How long a get takes to be answered. */
async function timedGet(store: RemoteBackedStore, actionId: string): Promise<number> {
  const started = performance.now();
  const hit = await store.get(actionId);
  assert.ok(hit !== undefined, `a hit for ${actionId}`);
  return performance.now() - started;
}

Deno.test("RemoteBackedStore serves from a fresh directory what another directory uploaded, verified", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const a = await tiered(`${work.path}/a`, redis.port);
  const body = new TextEncoder().encode("compiled package archive");
  const stored = await putBytes(a.store, ACTION, body);
  await a.store.close();
  assert.equal(a.store.metrics.record().uploads, 1);

  const b = await tiered(`${work.path}/b`, redis.port);
  const hit = await b.store.get(ACTION);
  assert.equal(hit?.source, "remote");
  assert.equal(hit?.outputId, stored.outputId);
  assert.equal(hit?.timeNanos, stored.timeNanos, "the original put time is kept");
  assert.ok(hit?.diskPath.startsWith(`${work.path}/b/`));
  assert.deepEqual(await Deno.readFile(hit!.diskPath), body);
  const again = await b.store.get(ACTION);
  assert.equal(again?.source, undefined, "the second get is a local hit");
  await b.store.close();
});

Deno.test("RemoteBackedStore never serves a corrupt remote value: it is a miss, counted, said once, removed", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const a = await tiered(`${work.path}/a`, redis.port);
  await putBytes(a.store, ACTION, new TextEncoder().encode("the real contents of an archive"));
  await putBytes(a.store, "d".repeat(64), new TextEncoder().encode("another archive"));
  await a.store.close();
  const key = entryKey(keyNamespace("tier"), ACTION);
  await redis.cli("SETRANGE", key, "80", "XXXX"); // flip bytes inside the body
  await redis.cli("SETRANGE", entryKey(keyNamespace("tier"), "d".repeat(64)), "85", "YYYY");

  const b = await tiered(`${work.path}/b`, redis.port);
  assert.equal(await b.store.get(ACTION), undefined);
  assert.equal(await b.store.get("d".repeat(64)), undefined);
  assert.equal(b.store.metrics.record().corrupt, 2);
  assert.equal(b.logs.filter((line) => line.includes("corrupt")).length, 1, b.logs.join("\n"));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(await redis.cli("EXISTS", key), "0", "the corrupt value was removed");
  await b.store.close();
});

Deno.test("RemoteBackedStore's prefetch verifies as a demand get does: a corrupt value is never stored", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const manifests = (write: boolean): ManifestOptions => ({
    scopes: { buildType: "unit", own: "ref:main", writesDefault: false, toolchain: "" },
    write,
    prefetchMaxBytes: 1 << 20,
  });
  const a = await tiered(`${work.path}/a`, redis.port, { manifests: manifests(true) });
  await putBytes(a.store, ACTION, new TextEncoder().encode("the real contents of an archive"));
  const intact = await putBytes(a.store, "d".repeat(64), new TextEncoder().encode("intact"));
  await a.store.close();
  await redis.cli("SETRANGE", entryKey(keyNamespace("tier"), ACTION), "80", "XXXX");

  const b = await tiered(`${work.path}/b`, redis.port, { manifests: manifests(false) });
  await b.store.prefetchFinished();
  const local = await DiskStore.open(`${work.path}/b`);
  assert.equal(local.has(ACTION), false, "the corrupt entry was not stored");
  assert.equal(local.get("d".repeat(64))?.outputId, intact.outputId, "the intact one was");
  assert.equal(b.store.metrics.record().corrupt, 1);
  assert.equal(b.store.metrics.record().prefetched, 1);
  await b.store.close();
});

Deno.test("RemoteBackedStore with Redis refused: local answers, one warning, puts never fail", async () => {
  await using work = await tempDir();
  const t = await tiered(`${work.path}/a`, freePort());
  const started = performance.now();
  assert.equal(await t.store.get(ACTION), undefined);
  const stored = await putBytes(t.store, ACTION, new TextEncoder().encode("local only"));
  assert.deepEqual(t.store.get(ACTION), stored);
  for (let i = 0; i < 20; i++) {
    assert.equal(await t.store.get(String(i % 10).repeat(64)), undefined);
  }
  await t.store.close();
  assert.ok(performance.now() - started < 1500, `took ${performance.now() - started} ms`);
  assert.equal(t.logs.filter((line) => line.includes("warning")).length, 1, t.logs.join("\n"));
});

Deno.test("RemoteBackedStore with Redis frozen: gets cost one timeout, then the breaker answers at once", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const t = await tiered(`${work.path}/a`, redis.port);
  assert.equal(await t.store.get("e".repeat(64)), undefined, "connected and working");
  redis.freeze();
  try {
    const started = performance.now();
    const results = await Promise.all([ACTION, "f".repeat(64)].map((id) => t.store.get(id)));
    assert.deepEqual(results, [undefined, undefined]);
    const first = performance.now() - started;
    assert.ok(first < 1000, `the first gets took ${first} ms`);
    const next = performance.now();
    for (let i = 0; i < 50; i++) {
      assert.equal(t.store.get(String(i % 10).repeat(64)), undefined, "answered at once");
    }
    assert.ok(performance.now() - next < 200);
    const stored = await putBytes(
      t.store,
      ACTION,
      new TextEncoder().encode("still stored locally"),
    );
    assert.ok(stored.diskPath.length > 0);
  } finally {
    redis.thaw();
  }
  await t.store.close();
  assert.equal(t.logs.filter((line) => line.includes("warning")).length, 1, t.logs.join("\n"));
});

Deno.test("RemoteBackedStore in read-only mode reads from Redis but never writes to it", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const t = await tiered(`${work.path}/a`, redis.port, { readOnly: true });
  await putBytes(t.store, ACTION, new TextEncoder().encode("untrusted job output"));
  await t.store.close();
  assert.equal(await redis.cli("DBSIZE"), "0");
  assert.equal(t.store.metrics.record().uploads, 0);
});

Deno.test("RemoteBackedStore skips uploading what Redis already holds", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const body = new TextEncoder().encode("same output everywhere");
  const a = await tiered(`${work.path}/a`, redis.port);
  await putBytes(a.store, ACTION, body);
  await a.store.close();
  const b = await tiered(`${work.path}/b`, redis.port);
  await putBytes(b.store, ACTION, body);
  await b.store.close();
  assert.equal(b.store.metrics.record().uploads, 0);
  assert.equal(b.store.metrics.record().uploadsSkipped, 1);
});

Deno.test("RemoteBackedStore's close() waits for uploads at most the upload wait, and says what was left", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const t = await tiered(`${work.path}/a`, redis.port, { uploadWaitMillis: 200 });
  assert.equal(await t.store.get(ACTION), undefined, "connected");
  redis.freeze();
  try {
    for (let i = 0; i < 8; i++) {
      await putBytes(t.store, String(i).repeat(64), new TextEncoder().encode(`body ${i}`));
    }
    const started = performance.now();
    await t.store.close();
    assert.ok(performance.now() - started < 1000, `close took ${performance.now() - started} ms`);
  } finally {
    redis.thaw();
  }
  assert.ok(t.logs.some((line) => /uploads .* were not finished/.test(line)), t.logs.join("\n"));
});

Deno.test("RemoteBackedStore fetches a compile's stdout companion with it, and serves it locally after", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const sha256 = await loadSha256();
  const companion = subkey(sha256, ACTION, "stdout");
  const a = await tiered(`${work.path}/a`, redis.port);
  await putBytes(a.store, ACTION, new TextEncoder().encode("archive"));
  await putBytes(a.store, companion, new Uint8Array(0));
  await a.store.close();
  const b = await tiered(`${work.path}/b`, redis.port);
  assert.equal((await b.store.get(ACTION))?.source, "remote");
  await new Promise((resolve) => setTimeout(resolve, 50)); // the companion lands
  const companionHit = b.store.get(companion);
  assert.ok(
    companionHit !== undefined && !(companionHit instanceof Promise),
    "a local hit, answered at once",
  );
  assert.equal(b.store.metrics.record().companionsFetched, 1);
  assert.equal(b.store.metrics.record().companionsUsed, 1);
  await b.store.close();
});

Deno.test("RemoteBackedStore over an 8 MB/s link: big entries go through, small gets never wait behind them, the breaker never trips", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const a = await tiered(`${work.path}/a`, redis.port);
  const big = randomBytes(6 << 20);
  await putBytes(a.store, id(1), big);
  for (let n = 10; n < 40; n++) {
    await putBytes(a.store, id(n), new TextEncoder().encode(`small ${n}`));
  }
  await a.store.close();
  assert.equal(a.store.metrics.record().uploads, 31);

  // A WAN-like link: 30 ms round trips, 8 MB/s each way. A small get held behind a
  // megabyte would take 130 ms more.
  const upload = randomBytes(16 << 20);
  const uploadId = await sha256HexOffThread(upload);
  await using link = await spawnLatencyProxy(redis.port, 30, { bytesPerSecond: 8_000_000 });
  const b = await tiered(`${work.path}/b`, link.port, { uploadWaitMillis: 30_000 });
  // Idle, a small remote hit takes one round trip and a local write: the median of three.
  const idle = [await timedGet(b.store, id(10)), await timedGet(b.store, id(11))];
  idle.push(await timedGet(b.store, id(12)));
  const roundTrip = idle.sort((x, y) => x - y)[1]!;
  // Answered locally; uploaded in the background. Its bytes and hash are made before the
  // round trip is measured, so that none of the test's own work falls in the window.
  await putChunks(b.store, { actionId: id(2), outputId: uploadId, size: upload.length }, upload);
  const bigGet = timedGet(b.store, id(1));
  const small: number[] = [];
  for (let n = 13; n < 40; n++) {
    small.push(await timedGet(b.store, id(n)));
    await new Promise((resolve) => setTimeout(resolve, 60));
  }
  const bigMillis = await bigGet;
  const started = performance.now();
  await b.store.close(); // waits for the upload
  const uploadMillis = performance.now() - started;
  assert.ok(bigMillis > 500, `6 MiB at 8 MB/s took ${bigMillis} ms`);
  assert.equal(b.store.metrics.record().uploads, 1, b.logs.join("\n"));
  assert.equal(b.store.metrics.record().breakerTrips, 0, b.logs.join("\n"));
  assert.equal(await redis.cli("EXISTS", entryKey(keyNamespace("tier"), id(2))), "1");
  // A small get queued behind one MiB of another transfer would take this much longer.
  const behindAChunk = (1000 * (1 << 20)) / 8_000_000;
  const sorted = [...small].sort((x, y) => x - y);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const why = `small gets took ${small.map((x) => x.toFixed(1))} ms against a round trip of ` +
    `${roundTrip.toFixed(1)} ms, while the 6 MiB get took ${bigMillis.toFixed(0)} ms and ` +
    `the upload ${uploadMillis.toFixed(0)} ms more`;
  // Bounds with room for a busy machine's timers, yet below what queueing would cost.
  assert.ok(median <= roundTrip + behindAChunk / 2, why);
  assert.ok(sorted[sorted.length - 3]! < roundTrip + behindAChunk, why);
});

Deno.test("RemoteBackedStore's prefetch trusts no manifest's sizes: a lying manifest stays within its budget", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const a = await tiered(`${work.path}/a`, redis.port);
  for (let n = 1; n <= 10; n++) await putBytes(a.store, id(n), randomBytes(4 << 20));
  await a.store.close();
  // A manifest that lists the ten 4 MiB entries as 1 byte each.
  const buildType = (await sha256HexOfText("unit")).slice(0, 16);
  const lie = encodeManifestRecords(
    Array.from({ length: 10 }, (_, i) => ({ actionId: id(i + 1), size: 1 })),
  );
  const header = encodeManifestHeader("ab".repeat(16), Date.now());
  const manifest = new Uint8Array(header.length + lie.length);
  manifest.set(header);
  manifest.set(lie, header.length);
  await redis.setBytes(manifestKey(keyNamespace("tier"), `${buildType}:ref:main`), manifest);

  const b = await tiered(`${work.path}/b`, redis.port, {
    manifests: {
      scopes: { buildType: "unit", own: "ref:main", writesDefault: false, toolchain: "" },
      write: false,
      prefetchMaxBytes: 1 << 20,
    },
  });
  const outcome = await b.store.prefetchFinished();
  assert.ok(outcome.fetchedBytes <= 1 << 20, `prefetched ${outcome.fetchedBytes} bytes`);
  assert.equal(outcome.fetched, 0);
  assert.equal(
    b.logs.filter((line) => /its sizes are not trusted any further/.test(line)).length,
    1,
    b.logs.join("\n"),
  );
  const hit = await b.store.get(id(3));
  assert.equal(hit?.size, 4 << 20, "the entry is still served on demand, whole");
  await b.store.close();
});
