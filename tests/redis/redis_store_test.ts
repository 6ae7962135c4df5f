/**
 * The Redis store against real `redis-server` processes started on free loopback
 * ports: standalone, password and ACL user, TLS and mutual TLS, a 3-node Cluster, and
 * Sentinel.
 */
import assert from "node:assert/strict";
import {
  openRedisStore,
  type RedisStore,
  type RedisStoreOptions,
} from "../../src/redis/redis_store.ts";
import { CorruptEntryError, RemoteAuthError, RemoteFullError } from "../../src/errors.ts";
import {
  chunkKey,
  encodeEntry,
  entryKey,
  keyNamespace,
  manifestKey,
} from "../../src/redis/value_format.ts";
import { startRedis, startRedisCluster, startRedisSentinel } from "../support/redis_server.ts";
import { makeTlsCertificates } from "../support/tls.ts";
import { tempDir } from "../support/tools.ts";
import { contentOf, randomBytes, remoteEntryOf, uploadOf } from "../support/stores.ts";

const ACTION = "a".repeat(64);

function store(options: Partial<RedisStoreOptions> & { urls: string[] }): RedisStore {
  return openRedisStore({
    prefix: "test",
    ttlMillis: 60_000,
    timeoutMillis: 2000,
    compress: "none",
    ...options,
  });
}

Deno.test("RedisStore stores and returns entries of every size, one key or chunked", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({ dir: dir.path });
  const remote = store({ urls: [`127.0.0.1:${redis.port}`] });
  try {
    assert.equal(await remote.ready(), true);
    assert.equal(await remote.get(ACTION), undefined);
    for (const [i, size] of [0, 5, 1 << 20, (3 << 20) + 12345].entries()) {
      const entry = await remoteEntryOf(randomBytes(size));
      const action = String(i).repeat(64);
      await remote.put(action, uploadOf(entry));
      assert.deepEqual(contentOf(await remote.get(action)), entry, `size ${size}`);
    }
    const chunked = await remoteEntryOf(randomBytes((3 << 20) + 12345));
    await remote.put(ACTION, uploadOf(chunked));
    const keys = (await redis.cli("--scan", "--pattern", "gocacheprog:test:*")).split("\n");
    assert.equal(
      keys.filter((key) => key.startsWith(entryKey(keyNamespace("test"), ACTION))).length,
      4,
    );
  } finally {
    await remote.close();
  }
});

Deno.test("RedisStore sends uploads, background fetches and a big entry's chunks on connections of their own", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({ dir: dir.path });
  const remote = store({ urls: [`127.0.0.1:${redis.port}`] });
  // Our connections, by the last command each sent (redis-cli's own says client|list).
  const lastCommands = async () =>
    (await redis.cli("CLIENT", "LIST")).split("\n").map((line) => /cmd=(\S+)/.exec(line)?.[1])
      .filter((command) => command !== undefined && command !== "client|list").sort();
  try {
    const entry = await remoteEntryOf(randomBytes(1000));
    await remote.put(ACTION, uploadOf(entry));
    assert.deepEqual(await lastCommands(), ["ping", "set"], "an upload has its own");
    assert.deepEqual(contentOf(await remote.get(ACTION)), entry);
    assert.deepEqual(await lastCommands(), ["getex", "set"], "a get has its own");
    assert.deepEqual(contentOf(await remote.get(ACTION, { background: true })), entry);
    assert.deepEqual(
      await lastCommands(),
      ["getex", "getex", "set"],
      "a background get has its own",
    );
    const big = await remoteEntryOf(randomBytes(3 << 20));
    await remote.put("b".repeat(64), uploadOf(big));
    assert.deepEqual(contentOf(await remote.get("b".repeat(64))), big);
    assert.deepEqual(
      await lastCommands(),
      ["getex", "getex", "getex", "set"],
      "the rest of a big entry has its own",
    );
  } finally {
    await remote.close();
  }
});

Deno.test("RedisStore lets the caller free a plain body it read, one key or chunked, and never zlib's", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({ dir: dir.path });
  const plain = store({ urls: [`127.0.0.1:${redis.port}`] });
  const compressing = store({ urls: [`127.0.0.1:${redis.port}`], compress: "zstd" });
  try {
    for (const size of [1000, (2 << 20) + 1]) {
      await plain.put(ACTION, uploadOf(await remoteEntryOf(randomBytes(size))));
      const read = await plain.get(ACTION);
      assert.equal(read?.body.length, size);
      read?.release?.();
      assert.equal(read?.body.length, 0, `size ${size}: freed, so it reads as empty`);
    }
    const compressible = new TextEncoder().encode("compressible ".repeat(10_000));
    await compressing.put(ACTION, uploadOf(await remoteEntryOf(compressible)));
    const decompressed = await plain.get(ACTION);
    assert.equal(decompressed?.release, undefined, "zlib's buffer may be shared");
    assert.deepEqual(decompressed?.body, compressible);
  } finally {
    await plain.close();
    await compressing.close();
  }
});

Deno.test("RedisStore compresses with zstd when asked, and reads either encoding", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({ dir: dir.path });
  const compressing = store({ urls: [`127.0.0.1:${redis.port}`], compress: "zstd" });
  const plain = store({ urls: [`127.0.0.1:${redis.port}`] });
  try {
    const body = new TextEncoder().encode("compressible ".repeat(100_000));
    const entry = await remoteEntryOf(body);
    await compressing.put(ACTION, uploadOf(entry));
    const stored = Number(await redis.cli("STRLEN", entryKey(keyNamespace("test"), ACTION)));
    assert.ok(stored < body.length / 10, `stored ${stored} bytes for ${body.length}`);
    assert.deepEqual(contentOf(await plain.get(ACTION)), entry);
  } finally {
    await compressing.close();
    await plain.close();
  }
});

Deno.test("RedisStore refreshes an entry's TTL on every hit", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({ dir: dir.path });
  const remote = store({ urls: [`127.0.0.1:${redis.port}`], ttlMillis: 3_600_000 });
  try {
    await remote.put(ACTION, uploadOf(await remoteEntryOf(randomBytes(10))));
    const key = entryKey(keyNamespace("test"), ACTION);
    assert.ok(Number(await redis.cli("PTTL", key)) > 3_500_000);
    await redis.cli("PEXPIRE", key, "5000");
    await remote.get(ACTION);
    assert.ok(Number(await redis.cli("PTTL", key)) > 3_500_000, "the hit refreshed the TTL");
  } finally {
    await remote.close();
  }
});

Deno.test("RedisStore.has() tells whether this very output is already stored", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({ dir: dir.path });
  const remote = store({ urls: [`127.0.0.1:${redis.port}`] });
  try {
    const entry = await remoteEntryOf(randomBytes(100));
    assert.equal(await remote.has(ACTION, entry.outputId), false);
    await remote.put(ACTION, uploadOf(entry));
    assert.equal(await remote.has(ACTION, entry.outputId), true);
    assert.equal(await remote.has(ACTION, "b".repeat(64)), false);
  } finally {
    await remote.close();
  }
});

Deno.test("RedisStore refuses corrupt values: a stranger's value, a truncated one, a missing chunk", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({ dir: dir.path });
  const remote = store({ urls: [`127.0.0.1:${redis.port}`] });
  const namespace = keyNamespace("test");
  try {
    await redis.cli(
      "SET",
      entryKey(namespace, ACTION),
      "not an entry at all, but long enough to look like one".repeat(3),
    );
    await assert.rejects(remote.get(ACTION), CorruptEntryError);
    const entry = await remoteEntryOf(randomBytes(2 << 20));
    await remote.put(ACTION, uploadOf(entry));
    await redis.cli("SETRANGE", entryKey(namespace, ACTION), "0", "XXXX");
    await assert.rejects(remote.get(ACTION), CorruptEntryError);
    await remote.put(ACTION, uploadOf(entry));
    await redis.cli("DEL", chunkKey(namespace, { actionId: ACTION, outputId: entry.outputId }, 1));
    await assert.rejects(remote.get(ACTION), /chunk is missing/);
  } finally {
    await remote.close();
  }
});

Deno.test("RedisStore logs in with a password or an ACL user, and reports a refused password", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({
    dir: dir.path,
    password: "s3cret",
    aclUsers: ["user builder on >builder-pass ~gocacheprog:* +@all"],
  });
  const byPassword = store({ urls: [`127.0.0.1:${redis.port}`], password: "s3cret" });
  const byUser = store({ urls: [`redis://builder:builder-pass@127.0.0.1:${redis.port}`] });
  const wrong = store({ urls: [`127.0.0.1:${redis.port}`], password: "wrong-password" });
  try {
    assert.equal(await byPassword.ready(), true);
    assert.equal(await byUser.ready(), true);
    const entry = await remoteEntryOf(randomBytes(64));
    await byUser.put(ACTION, uploadOf(entry));
    assert.deepEqual(contentOf(await byPassword.get(ACTION)), entry);
    assert.equal(await wrong.ready(), false);
    assert.ok(wrong.lastError instanceof RemoteAuthError, String(wrong.lastError));
    assert.match(wrong.lastError.message, /WRONGPASS/);
    assert.ok(
      !(wrong.lastError?.message ?? "").includes("wrong-password"),
      "the password is never repeated",
    );
  } finally {
    await Promise.all([byPassword.close(), byUser.close(), wrong.close()]);
  }
});

Deno.test("RedisStore tells a full Redis by its error's type: a put into a Redis out of memory rejects with RemoteFullError", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({
    dir: dir.path,
    args: ["--maxmemory", "1", "--maxmemory-policy", "noeviction"],
  });
  const remote = store({ urls: [`127.0.0.1:${redis.port}`] });
  try {
    assert.equal(await remote.ready(), true);
    const entry = await remoteEntryOf(randomBytes(64));
    await assert.rejects(remote.put(ACTION, uploadOf(entry)), RemoteFullError);
    assert.equal(await remote.get(ACTION), undefined, "reads still work");
  } finally {
    await remote.close();
  }
});

Deno.test("RedisStore connects over TLS, and with a client certificate for mutual TLS", async () => {
  await using dir = await tempDir();
  const certs = await makeTlsCertificates(dir.path);
  await using redis = await startRedis({
    dir: dir.path,
    tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, authClients: "yes" },
  });
  const ca = await Deno.readTextFile(certs.ca);
  const mutual = store({
    urls: [`rediss://127.0.0.1:${redis.port}`],
    tls: {
      ca,
      cert: await Deno.readTextFile(certs.clientCert),
      key: await Deno.readTextFile(certs.clientKey),
    },
  });
  const noClientCert = store({
    urls: [`rediss://127.0.0.1:${redis.port}`],
    tls: { ca },
    timeoutMillis: 1000,
  });
  try {
    assert.equal(await mutual.ready(), true);
    const entry = await remoteEntryOf(randomBytes(3000));
    await mutual.put(ACTION, uploadOf(entry));
    assert.deepEqual(contentOf(await mutual.get(ACTION)), entry);
    assert.equal(await noClientCert.ready(), false, "the server requires a client certificate");
    // A plain address against this TLS port: the message names the likely fix.
    const plain = store({ urls: [`redis://127.0.0.1:${redis.port}`], timeoutMillis: 1000 });
    assert.equal(await plain.ready(), false);
    assert.match(
      plain.lastError?.message ?? "",
      /dropped the connection before answering: if it serves TLS, use a rediss:\/\/ address/,
    );
    await plain.close();
  } finally {
    await Promise.all([mutual.close(), noClientCert.close()]);
  }
});

Deno.test("RedisStore works against a 3-node Redis Cluster", async () => {
  await using dir = await tempDir();
  const nodes = await startRedisCluster(dir.path);
  const remote = store({ urls: nodes.map((node) => `127.0.0.1:${node.port}`) });
  try {
    assert.equal(await remote.ready(), true);
    const entries = [];
    for (let i = 0; i < 12; i++) {
      const entry = await remoteEntryOf(randomBytes(i === 0 ? (2 << 20) + 7 : 100 + i));
      const action = (i.toString(16) + "0").repeat(32);
      await remote.put(action, uploadOf(entry));
      entries.push({ action, entry });
    }
    for (const { action, entry } of entries) {
      assert.deepEqual(contentOf(await remote.get(action)), entry);
    }
    const perNode = await Promise.all(nodes.map((node) => node.cli("DBSIZE")));
    assert.ok(
      perNode.filter((count) => Number(count) > 0).length >= 2,
      `keys spread over nodes: ${perNode}`,
    );
  } finally {
    await remote.close();
    await Promise.all(nodes.map((node) => node.kill()));
  }
});

Deno.test("RedisStore finds the master through Redis Sentinel", async () => {
  await using dir = await tempDir();
  await using master = await startRedis({ dir: dir.path });
  await using sentinel = await startRedisSentinel(dir.path, master);
  const remote = store({
    urls: [],
    sentinels: [`127.0.0.1:${sentinel.port}`],
    sentinelName: "mymaster",
  });
  try {
    assert.equal(await remote.ready(), true);
    const entry = await remoteEntryOf(randomBytes(500));
    await remote.put(ACTION, uploadOf(entry));
    assert.deepEqual(contentOf(await remote.get(ACTION)), entry);
    assert.equal(await master.cli("EXISTS", entryKey(keyNamespace("test"), ACTION)), "1");
  } finally {
    await remote.close();
  }
});

Deno.test("RedisStore.writeManifest() appends for the same CI job and replaces for a new one", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({ dir: dir.path });
  const remote = store({ urls: [`127.0.0.1:${redis.port}`] });
  try {
    const { decodeManifest, encodeManifestHeader, encodeManifestRecords } = await import(
      "../../src/manifest_format.ts"
    );
    const record = (n: number) => ({ actionId: n.toString(16).padStart(64, "0"), size: n });
    const write = (job: string, ...ns: number[]) =>
      remote.writeManifest("t:ref:main", {
        jobHash: job,
        header: encodeManifestHeader(job, 1),
        records: encodeManifestRecords(ns.map(record)),
      });
    await write("aa".repeat(16), 1, 2);
    await write("aa".repeat(16), 3);
    let [value] = await remote.readManifests(["t:ref:main"]);
    assert.deepEqual(
      decodeManifest(value!)?.records,
      [record(1), record(2), record(3)],
      "the same job appends",
    );
    await write("bb".repeat(16), 9);
    [value] = await remote.readManifests(["t:ref:main"]);
    assert.deepEqual(decodeManifest(value!)?.records, [record(9)], "a new job replaces");
    assert.deepEqual(await remote.readManifests(["t:ref:other"]), [undefined]);
  } finally {
    await remote.close();
  }
});

Deno.test("RedisStore never expands a zstd value beyond what its header claims", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({ dir: dir.path });
  const redisStore = store({ urls: [`127.0.0.1:${redis.port}`] });
  const { zstdCompressSync } = await import("node:zlib");
  const bomb = zstdCompressSync(new Uint8Array(256 << 20)); // 256 MiB of zeros, about 8 KB
  const header = encodeEntry(
    { outputId: "0".repeat(64), size: 1000, timeNanos: 1n, encoding: "zstd" },
    new Uint8Array(bomb.buffer, bomb.byteOffset, bomb.byteLength),
  ).head;
  await redis.setBytes(entryKey(keyNamespace("test"), ACTION), header);
  const rssBefore = Deno.memoryUsage().rss;
  const started = performance.now();
  await assert.rejects(redisStore.get(ACTION), CorruptEntryError);
  assert.ok(performance.now() - started < 500, `took ${performance.now() - started} ms`);
  const grown = (Deno.memoryUsage().rss - rssBefore) / 2 ** 20;
  assert.ok(grown < 64, `memory grew by ${grown.toFixed(0)} MiB`);
  // A header may not claim more than a compressed entry may hold, either.
  const claiming = encodeEntry(
    { outputId: "0".repeat(64), size: 65 << 20, timeNanos: 1n, encoding: "zstd" },
    new Uint8Array(bomb.buffer, bomb.byteOffset, bomb.byteLength),
  ).head;
  await redis.setBytes(entryKey(keyNamespace("test"), ACTION), claiming);
  await assert.rejects(redisStore.get(ACTION), CorruptEntryError);
  await redisStore.close();
});

Deno.test("RedisStore without refreshTtl reads with GET and leaves TTLs alone", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({ dir: dir.path });
  const writer = store({ urls: [`127.0.0.1:${redis.port}`], ttlMillis: 60_000 });
  await writer.put(ACTION, uploadOf(await remoteEntryOf(new TextEncoder().encode("entry"))));
  const key = entryKey(keyNamespace("test"), ACTION);
  await redis.cli("PEXPIRE", key, "5000");
  const reader = store({ urls: [`127.0.0.1:${redis.port}`], ttlMillis: 60_000, refreshTtl: false });
  assert.ok(await reader.get(ACTION));
  assert.ok(Number(await redis.cli("PTTL", key)) <= 5000, "the TTL was not refreshed");
  assert.ok(await writer.get(ACTION));
  assert.ok(Number(await redis.cli("PTTL", key)) > 50_000, "GETEX refreshes it");
  await Promise.all([writer.close(), reader.close()]);
});

Deno.test("RedisStore.readManifests() reads at most a manifest's size limit, whatever the value's size", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({ dir: dir.path });
  const remote = store({ urls: [`127.0.0.1:${redis.port}`] });
  try {
    const { MANIFEST_HEADER_BYTES, MANIFEST_RECORD_BYTES, MAX_MANIFEST_RECORDS } = await import(
      "../../src/manifest_format.ts"
    );
    const limit = MANIFEST_HEADER_BYTES + MAX_MANIFEST_RECORDS * MANIFEST_RECORD_BYTES;
    await redis.setBytes(manifestKey(keyNamespace("test"), "huge"), randomBytes(limit + 4096));
    const [read, missing] = await remote.readManifests!(["huge", "none"]);
    assert.equal(read?.length, limit);
    assert.equal(missing, undefined);
  } finally {
    await remote.close();
  }
});
