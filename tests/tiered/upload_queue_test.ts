/** Background uploads: bounded, skipped when present, drained at close; over an in-memory remote. */
import assert from "node:assert/strict";
import { type Upload, UploadQueue } from "../../src/tiered/upload_queue.ts";
import { MemoryRemoteStore } from "../support/memory_remote_store.ts";
import { DeadlineError } from "../../src/errors.ts";
import { type TierParts, tierParts } from "../support/tier_parts.ts";
import { putBytes } from "../support/stores.ts";
import { tempDir } from "../support/tools.ts";
import { id } from "../support/vectors.ts";

async function stored(parts: TierParts, n: number, remoteMissed = false): Promise<Upload> {
  const hit = await putBytes(parts.local, id(n), new TextEncoder().encode(`body ${n}`));
  return {
    actionId: id(n),
    outputId: hit.outputId,
    size: hit.size,
    timeNanos: hit.timeNanos,
    remoteMissed,
  };
}

function queue(parts: TierParts, options: { maxQueued?: number } = {}) {
  return new UploadQueue({ ...parts, ...options });
}

Deno.test("UploadQueue uploads in the background, and drops (counted) what is beyond its bound", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const parts = await tierParts(dir.path, remote);
  const uploads = queue(parts, { maxQueued: 2 });
  remote.hold();
  for (let n = 0; n < 10; n++) uploads.add(await stored(parts, n));
  assert.ok(uploads.busy());
  remote.release();
  await uploads.drain(1000);
  assert.equal(uploads.counters().uploads, 6, "four running and two queued");
  assert.equal(uploads.counters().uploadsDropped, 4);
  assert.equal(remote.entries.size, 6);
  assert.equal(uploads.busy(), false);
});

Deno.test("UploadQueue skips what the remote holds, and does not ask after a remote miss", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const parts = await tierParts(dir.path, remote);
  const first = await stored(parts, 1);
  const second = await stored(parts, 2, true);
  remote.entries.set(first.actionId, {
    outputId: first.outputId,
    size: first.size,
    timeNanos: first.timeNanos,
    body: new TextEncoder().encode("body 1"),
  });
  const uploads = queue(parts);
  uploads.add(first);
  uploads.add(second);
  await uploads.drain(1000);
  assert.equal(uploads.counters().uploadsSkipped, 1);
  assert.equal(uploads.counters().uploads, 1);
  assert.deepEqual(remote.callsOf("has").map((call) => call.key), [first.actionId]);
});

Deno.test("UploadQueue reads each body back through the local store, and drops one that is gone", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const parts = await tierParts(dir.path, remote);
  const kept = await stored(parts, 1);
  const gone = await stored(parts, 2);
  await Deno.remove(parts.local.outputPath(gone.outputId)); // go clean -cache, say
  const uploads = queue(parts);
  uploads.add(kept);
  uploads.add(gone);
  await uploads.drain(1000);
  assert.deepEqual(remote.entries.get(kept.actionId)?.body, new TextEncoder().encode("body 1"));
  assert.equal(uploads.counters().uploadsDropped, 1);
});

Deno.test("UploadQueue counts a full remote's refusals as failures, and the breaker stays closed", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const parts = await tierParts(dir.path, remote);
  remote.fault = "full";
  const uploads = queue(parts);
  for (let n = 0; n < 5; n++) uploads.add(await stored(parts, n));
  await uploads.drain(1000);
  assert.equal(uploads.counters().uploadsFailed, 5);
  assert.equal(parts.link.allows(), true);
  assert.equal(parts.log.warnings().length, 1);
});

Deno.test("UploadQueue.drain() waits at most its wait, and says what was left", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const parts = await tierParts(dir.path, remote);
  const uploads = queue(parts);
  remote.hold();
  for (let n = 0; n < 6; n++) uploads.add(await stored(parts, n));
  let drained = false;
  const draining = uploads.drain(50).then(() => drained = true);
  await parts.clock.advance(49);
  assert.equal(drained, false, "it waits");
  await parts.clock.advance(1);
  await draining;
  assert.equal(uploads.counters().uploadsDropped, 2, "the two still queued");
  assert.ok(parts.log.lines.some((line) => /6 uploads .* were not finished/.test(line)));
  uploads.add(await stored(parts, 9));
  assert.equal(uploads.busy(), true, "the four running are still running");
  remote.release();
});

Deno.test("UploadQueue keeps what is put while the remote is down, and uploads it once it is back", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const parts = await tierParts(dir.path, remote);
  remote.fault = "refused";
  parts.link.failed(new DeadlineError("GETEX", 50));
  assert.equal(parts.link.state, "down");
  const uploads = queue(parts);
  for (let n = 0; n < 6; n++) uploads.add(await stored(parts, n));
  remote.fault = undefined;
  await parts.clock.advance(5000); // the probe, after the cooldown, finds it back
  await uploads.drain(2000);
  assert.equal(uploads.counters().uploads, 6);
  assert.equal(uploads.counters().uploadsDropped, 0);
});

Deno.test("UploadQueue.drain() does not wait while the remote is down, and says nothing more", async () => {
  await using dir = await tempDir();
  const remote = new MemoryRemoteStore();
  const parts = await tierParts(dir.path, remote);
  parts.link.failed(new DeadlineError("GETEX", 50));
  const uploads = queue(parts);
  for (let n = 0; n < 6; n++) uploads.add(await stored(parts, n));
  await uploads.drain(5000); // settles with the clock standing still
  assert.equal(
    uploads.counters().uploadsDropped,
    2,
    "the queued ones; the waiting ones end at close",
  );
  assert.equal(parts.log.lines.filter((line) => /were not finished/.test(line)).length, 0);
  await parts.link.close();
});
