/**
 * The metrics record, over many random sessions of the engine and the remote tier
 * (an in-memory remote with hits, misses, corrupt values, companions, a prefetch, and
 * refusals): every identity the README states holds, and each field means one thing.
 */
import assert from "node:assert/strict";
import { MetricsRegistry } from "../../src/metrics.ts";
import { ServeMetrics } from "../../src/protocol/serve_metrics.ts";
import { subkey } from "../../src/tiered/subkey.ts";
import { loadSha256, sha256HexOffThread, sha256HexOfText } from "../../src/util/sha256.ts";
import { encodeManifestHeader, encodeManifestRecords } from "../../src/manifest_format.ts";
import { concatBytes } from "../../src/util/bytes.ts";
import { DiskStore } from "../../src/local/disk_store.ts";
import { MemoryRemoteStore } from "../support/memory_remote_store.ts";
import { remoteBackedStore } from "../support/tier_parts.ts";
import { remoteEntryOf } from "../support/stores.ts";
import {
  runSession,
  runSessionInTurn,
  sessionInput,
  type SessionRequest,
} from "../support/sessions.ts";
import { tempDir } from "../support/tools.ts";
import { id } from "../support/vectors.ts";

/** A small deterministic random source (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MANIFEST_SCOPES = {
  scopes: {
    buildType: "unit",
    own: "ref:main",
    default: "ref:main",
    writesDefault: true,
    toolchain: "",
  },
  write: false,
  prefetchMaxBytes: 1 << 20,
};

/** Builds one random session's remote, local store and requests, and serves it. */
async function randomSession(seed: number, dir: string): Promise<Record<string, number>> {
  const next = random(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const sha256 = await loadSha256();
  const remote = new MemoryRemoteStore();
  const local = await DiskStore.open(dir);
  const actions = Array.from(
    { length: 12 + Math.floor(next() * 20) },
    (_, i) => id(seed * 100 + i),
  );
  const bodies = new Map(
    actions.map((action, i) => [action, new TextEncoder().encode(`body ${seed} ${i}`)]),
  );
  for (const action of actions) {
    const body = bodies.get(action)!;
    const where = pick(["remote", "remote", "corrupt", "local", "nowhere"] as const);
    if (where === "remote" || where === "corrupt") {
      const entry = await remoteEntryOf(body);
      remote.entries.set(
        action,
        where === "corrupt" ? { ...entry, body: new TextEncoder().encode("tampered") } : entry,
      );
      if (next() < 0.5) {
        remote.entries.set(
          subkey(sha256, action, "stdout"),
          await remoteEntryOf(new Uint8Array(0)),
        );
      }
    } else if (where === "local") {
      const writer = local.startPut({
        actionId: action,
        outputId: await sha256HexOffThread(body),
        size: body.length,
      });
      await writer.write(body);
      await writer.commit();
    }
  }
  const withManifest = next() < 0.5;
  if (withManifest) {
    const listed = actions.filter(() => next() < 0.6).map((actionId) => ({
      actionId,
      size: bodies.get(actionId)!.length,
    }));
    const header = encodeManifestHeader("ab".repeat(16), 1);
    const records = encodeManifestRecords(listed);
    const name = `${(await sha256HexOfText("unit")).slice(0, 16)}:ref:main`;
    remote.manifests.set(name, concatBytes([header, records], header.length + records.length));
  }
  remote.fault = pick([undefined, undefined, undefined, "refused", "full"] as const);
  const requests: SessionRequest[] = [];
  for (let i = 0; i < 40; i++) {
    const action = pick(actions);
    if (next() < 0.7) {
      requests.push({ command: "get", actionId: action });
      if (next() < 0.5) {
        requests.push({ command: "get", actionId: subkey(sha256, action, "stdout") });
      }
    } else {
      const body = bodies.get(action)!;
      requests.push({
        command: "put",
        actionId: action,
        outputId: await sha256HexOffThread(body),
        body,
      });
    }
  }
  const registry = new MetricsRegistry();
  const serveMetrics = new ServeMetrics();
  registry.register("serve", serveMetrics);
  const { store } = await remoteBackedStore(dir, remote, {
    metrics: registry,
    ...(withManifest ? { manifests: MANIFEST_SCOPES } : {}),
  });
  const { responses } = await runSession(store, sessionInput(requests), { metrics: serveMetrics });
  assert.equal(responses.length, requests.length + 2, "every request answered, and the close");
  return registry.record();
}

Deno.test("the metrics record keeps the README's identities over many random sessions", async () => {
  for (let seed = 1; seed <= 40; seed++) {
    await using dir = await tempDir();
    const r = await randomSession(seed, dir.path);
    const why = `seed ${seed}: ${JSON.stringify(r)}`;
    assert.equal(r.gets, r.hits! + r.misses! + r.getErrors!, why);
    assert.equal(r.hits, r.localHits! + r.remoteHits!, why);
    assert.equal(r.remoteHits, r.demandFound, why);
    assert.equal(
      r.demandRoundTrips! + r.demandJoined!,
      r.demandFound! + r.demandMisses! + r.demandErrors! + r.demandCorrupt!,
      why,
    );
    assert.equal(
      r.misses,
      r.demandMisses! + r.demandErrors! + r.demandCorrupt! + r.demandSkipped!,
      why,
    );
    assert.ok(r.companionsUsed! <= r.companionsFetched!, why);
    if (r.prefetchPlanned !== undefined) {
      assert.ok(r.prefetchUsed! <= r.prefetched! && r.prefetched! <= r.prefetchPlanned, why);
      assert.ok(r.prefetchUsedBytes! <= r.prefetchedBytes!, why);
    }
    assert.equal(
      r.puts! - r.putErrors!,
      r.uploads! + r.uploadsSkipped! + r.uploadsFailed! + r.uploadsDropped!,
      why,
    );
  }
});

Deno.test("a remote hit and its companion count two hits, one local and one remote, and one round trip", async () => {
  await using dir = await tempDir();
  const sha256 = await loadSha256();
  const remote = new MemoryRemoteStore();
  const companion = subkey(sha256, id(1), "stdout");
  remote.entries.set(id(1), await remoteEntryOf(new TextEncoder().encode("archive")));
  remote.entries.set(companion, await remoteEntryOf(new Uint8Array(0)));
  const registry = new MetricsRegistry();
  const serveMetrics = new ServeMetrics();
  registry.register("serve", serveMetrics);
  const { store } = await remoteBackedStore(dir.path, remote, { metrics: registry });
  // The go command asks for the companion once the compile's hit is answered; by then
  // the companion came in the same round trip as the compile, and is local.
  const responses = await runSessionInTurn(store, [
    { command: "get", actionId: id(1) },
    { command: "get", actionId: companion },
  ], { metrics: serveMetrics });
  assert.equal(responses[2]!.Size, undefined, "a hit of the empty companion");
  assert.ok(responses[2]!.DiskPath, `a hit: ${JSON.stringify(responses)}`);
  const r = registry.record();
  assert.deepEqual(
    [r.hits, r.localHits, r.remoteHits, r.demandRoundTrips, r.companionsFetched, r.companionsUsed],
    [2, 1, 1, 1, 1, 1],
  );
});
