/**
 * Leases in Redis against real `redis-server` processes: a claim rides on the get, is
 * refused while another owner holds the lease, is renewed and released only by its owner;
 * a read-only `+@read` user only looks; and the same on a 3-node Cluster, where each
 * action's lease lives beside its entry.
 */
import assert from "node:assert/strict";
import { openRedisStore, type RedisStoreOptions } from "../../src/redis/redis_store.ts";
import { entryKey, keyNamespace, leaseKey } from "../../src/redis/value_format.ts";
import { type RedisServer, startRedis, startRedisCluster } from "../support/redis_server.ts";
import { tempDir } from "../support/tools.ts";
import { contentOf, randomBytes, remoteEntryOf, uploadOf } from "../support/stores.ts";
import type { RemoteStore } from "../../src/store.ts";
import { claimOrRead, type Send, type SendTogether } from "../../src/redis/redis_leases.ts";
import type { Lane, RedisArg, RedisReply } from "../../src/redis/transport.ts";

const encoder = new TextEncoder();

const PREFIX = "test";
const LEASE = { leaseMillis: 5000 };

function store(options: Partial<RedisStoreOptions> & { urls: string[] }) {
  return openRedisStore({ prefix: PREFIX, ttlMillis: 60_000, timeoutMillis: 2000, ...options });
}

function action(n: number): string {
  return n.toString(16).padStart(2, "0").repeat(32);
}

/** Claims, refusals, renewals and releases on one store, whatever its topology. */
async function checkLeases(remote: RemoteStore, node: (key: string) => RedisServer) {
  const a = action(1);
  const lease = leaseKey(keyNamespace(PREFIX), a);
  assert.deepEqual(await remote.getOrClaim!(a, { owner: "runner-a", ...LEASE }), {
    entry: undefined,
    holder: "runner-a",
  });
  assert.equal(await node(lease).cli("GET", lease), "runner-a");
  const ttl = Number(await node(lease).cli("PTTL", lease));
  assert.ok(ttl > 4000 && ttl <= 5000, `the lease lives 5 s (${ttl} ms)`);
  assert.deepEqual(await remote.getOrClaim!(a, { owner: "runner-b", ...LEASE }), {
    entry: undefined,
    holder: "runner-a",
  }, "refused while another holds it");
  assert.deepEqual(await remote.renewLeases!([a, action(2)], "runner-b", 60_000), [false, false]);
  assert.deepEqual(await remote.renewLeases!([a], "runner-a", 60_000), [true]);
  assert.ok(Number(await node(lease).cli("PTTL", lease)) > 50_000, "renewed by its owner");
  await remote.releaseLeases!([a], "runner-b");
  assert.equal(await node(lease).cli("EXISTS", lease), "1", "never released by another");
  // The owner's upload: the entry appears, then the lease ends.
  const entry = await remoteEntryOf(randomBytes((2 << 20) + 99));
  await remote.put(a, uploadOf(entry));
  await remote.releaseLeases!([a], "runner-a");
  assert.equal(await node(lease).cli("EXISTS", lease), "0");
  const found = await remote.getOrClaim!(a, { owner: "runner-b", ...LEASE });
  assert.deepEqual(contentOf(found.entry), entry, "a chunked entry, whole");
  assert.equal(await node(lease).cli("EXISTS", lease), "0", "a hit claims nothing");
  // Many actions on many slots, in one round trip each way.
  const many = Array.from({ length: 20 }, (_, i) => action(10 + i));
  for (const id of many) await remote.getOrClaim!(id, { owner: "runner-a", ...LEASE });
  assert.deepEqual(await remote.renewLeases!(many, "runner-a", 5000), many.map(() => true));
  await remote.releaseLeases!(many, "runner-a");
  for (const id of many) {
    const key = leaseKey(keyNamespace(PREFIX), id);
    assert.equal(await node(key).cli("EXISTS", key), "0");
  }
}

Deno.test("RedisStore claims an action in its get, and only the owner renews or releases it", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({ dir: dir.path });
  const remote = store({ urls: [`127.0.0.1:${redis.port}`] });
  try {
    assert.equal(await remote.ready(), true);
    await checkLeases(remote, () => redis);
  } finally {
    await remote.close();
  }
});

Deno.test("RedisStore leases on a 3-node Cluster live beside their entries", async () => {
  await using dir = await tempDir();
  const nodes = await startRedisCluster(dir.path);
  const remote = store({ urls: nodes.map((node) => `127.0.0.1:${node.port}`) });
  try {
    assert.equal(await remote.ready(), true);
    const namespace = keyNamespace(PREFIX);
    assert.equal(
      await nodes[0]!.cli("CLUSTER", "KEYSLOT", leaseKey(namespace, action(1))),
      await nodes[0]!.cli("CLUSTER", "KEYSLOT", entryKey(namespace, action(1))),
      "one slot: the claim script runs on the entry's node",
    );
    // redis-cli -c follows the MOVED redirection to the node that holds the key.
    const anyNode = nodes[0]!;
    await checkLeases(remote, () => ({
      ...anyNode,
      cli: (...args: string[]) => anyNode.cli("-c", ...args),
    }));
  } finally {
    await remote.close();
    for (const node of nodes) await node.kill();
  }
});

Deno.test("RedisStore as a read-only ACL user looks at leases with GETs and never claims", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({
    dir: dir.path,
    aclUsers: ["user reader on >reader-pass ~* +@read"],
  });
  const writer = store({ urls: [`127.0.0.1:${redis.port}`] });
  const reader = store({
    urls: [`redis://reader:reader-pass@127.0.0.1:${redis.port}`],
    refreshTtl: false,
  });
  try {
    assert.equal(await reader.ready(), true);
    const a = action(1);
    assert.deepEqual(await reader.getOrClaim(a, { owner: "reader" }), {
      entry: undefined,
      holder: undefined,
    });
    assert.equal(await redis.cli("EXISTS", leaseKey(keyNamespace(PREFIX), a)), "0");
    await writer.getOrClaim(a, { owner: "writer", ...LEASE });
    assert.deepEqual(await reader.getOrClaim(a, { owner: "reader" }), {
      entry: undefined,
      holder: "writer",
    });
    const entry = await remoteEntryOf(randomBytes(1000));
    await writer.put(a, uploadOf(entry));
    assert.deepEqual(contentOf((await reader.getOrClaim(a, { owner: "reader" })).entry), entry);
  } finally {
    await reader.close();
    await writer.close();
  }
});

/** Sends that answer each command from `answer`, and record what was sent. */
function scriptedRedis(answer: (args: readonly RedisArg[]) => RedisReply) {
  const sent: { command: string; lane: Lane; together: boolean }[] = [];
  const one = (args: readonly RedisArg[], lane: Lane, together: boolean) => {
    sent.push({ command: String(args[0]), lane, together });
    return answer(args);
  };
  const send: Send = (args, lane) => Promise.resolve(one(args, lane, false));
  const sendTogether: SendTogether = (commands, lane) =>
    Promise.resolve(commands.map((args) => one(args, lane, true)));
  return { redis: { send, sendTogether }, sent };
}

const TARGET = { namespace: keyNamespace(PREFIX), actionId: action(1), ttlMillis: "60000" };
const CLAIM = { owner: "runner-a", ...LEASE };

Deno.test("claimOrRead sends the GETEX and then the claim on one connection, and only the claim is a script", async () => {
  const value = new Uint8Array([1, 2, 3]);
  const { redis, sent } = scriptedRedis((args) => args[0] === "GETEX" ? value : null);
  assert.deepEqual(await claimOrRead(redis, TARGET, CLAIM), { head: value });
  assert.deepEqual(sent, [
    { command: "GETEX", lane: "demand", together: true },
    { command: "EVAL", lane: "demand", together: true },
  ], "the read, then the claim, on one connection; nothing more for a hit");
});

Deno.test("claimOrRead releases a lease its claim took when the entry it read went away in between", async () => {
  const value = new Uint8Array([7]);
  let scripts = 0;
  const { redis, sent } = scriptedRedis((args) => {
    if (args[0] === "GETEX") return value;
    // The entry was deleted between the two and the claim took the lease; then the release.
    return scripts++ === 0 ? encoder.encode("runner-a") : 1;
  });
  assert.deepEqual(await claimOrRead(redis, TARGET, CLAIM), { head: value });
  assert.deepEqual(sent[2], { command: "EVAL", lane: "upload", together: false }, "released");
});

Deno.test("claimOrRead reads the entry again when it landed between the GETEX and the claim", async () => {
  const value = new Uint8Array([9]);
  let getexes = 0;
  const { redis, sent } = scriptedRedis((args) => {
    if (args[0] === "GETEX") return getexes++ === 0 ? null : value;
    return null; // the claim script: the entry exists
  });
  assert.deepEqual(await claimOrRead(redis, TARGET, CLAIM), { head: value });
  assert.deepEqual(sent.map((s) => s.command), ["GETEX", "EVAL", "GETEX"]);
});
