/** The tiered store over a real disk store and a real `redis-server`, with faults. */
import assert from "node:assert/strict";
import { RemoteBackedStore } from "../../src/tiered/remote_backed_store.ts";
import type { ManifestOptions } from "../../src/tiered/manifest_session.ts";
import { DiskStore } from "../../src/local/disk_store.ts";
import { openRedisStore } from "../../src/redis/redis_store.ts";
import { Logger } from "../../src/util/log.ts";
import { entryKey, keyNamespace } from "../../src/redis/value_format.ts";
import { startRedis } from "../support/redis_server.ts";
import { freePort, tempDir } from "../support/tools.ts";
import { putBytes } from "../support/stores.ts";
import { loadSha256 } from "../../src/util/sha256.ts";
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
  const logs: string[] = [];
  const logger = new Logger((line) => logs.push(line));
  const store = new RemoteBackedStore({
    local: await DiskStore.open(dir),
    remote: openRedisStore({
      urls: [`127.0.0.1:${port}`],
      prefix: "tier",
      ttlMillis: 60_000,
      timeoutMillis: 300,
      compress: "none",
    }),
    logger,
    timeoutMillis: 300,
    uploadWaitMillis: options.uploadWaitMillis ?? 3000,
    readOnly: options.readOnly ?? false,
    ...(options.manifests === undefined ? {} : { manifests: options.manifests }),
  });
  return { store, logs, dir } satisfies Tiered;
}

Deno.test("RemoteBackedStore serves from a fresh directory what another directory uploaded, verified", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const a = await tiered(`${work.path}/a`, redis.port);
  const body = new TextEncoder().encode("compiled package archive");
  const stored = await putBytes(a.store, ACTION, body);
  await a.store.close();
  assert.equal(a.store.metrics.uploads, 1);

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
  assert.equal(b.store.metrics.corrupt, 2);
  assert.equal(b.logs.filter((line) => line.includes("corrupt")).length, 1, b.logs.join("\n"));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(await redis.cli("EXISTS", key), "0", "the corrupt value was removed");
  await b.store.close();
});

Deno.test("RemoteBackedStore's prefetch verifies as a demand get does: a corrupt value is never stored", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const manifests = (write: boolean): ManifestOptions => ({
    scopes: { buildType: "unit", own: "ref:main", writesDefault: false },
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
  assert.equal(b.store.metrics.corrupt, 1);
  assert.equal(b.store.counters().prefetched, 1);
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
  assert.equal(t.store.metrics.uploads, 0);
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
  assert.equal(b.store.metrics.uploads, 0);
  assert.equal(b.store.metrics.uploadsSkipped, 1);
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
  assert.equal(b.store.metrics.companionsFetched, 1);
  assert.equal(b.store.metrics.companionsUsed, 1);
  await b.store.close();
});
