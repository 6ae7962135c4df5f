import assert from "node:assert/strict";
import { Prefetcher } from "../../src/tiered/prefetcher.ts";
import { EntryTooLargeError } from "../../src/errors.ts";

import { id } from "../support/vectors.ts";
import { settle } from "../support/fake_clock.ts";

const records = (count: number, size = 10) =>
  Array.from({ length: count }, (_, i) => ({ actionId: id(i), size }));

Deno.test("Prefetcher fetches in manifest order within its window, skipping what needs no fetch", async () => {
  const started: string[] = [];
  const release: (() => void)[] = [];
  let maxInFlight = 0;
  let inFlight = 0;
  const prefetcher = new Prefetcher({
    records: records(10),
    window: 3,
    skip: (actionId) => actionId === id(4),
    fetch: (actionId) => {
      started.push(actionId);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      return new Promise((resolve) => release.push(() => (inFlight--, resolve(10))));
    },
  });
  prefetcher.start();
  while (prefetcher.busy()) {
    await settle();
    release.shift()?.();
  }
  assert.deepEqual(started, [0, 1, 2, 3, 5, 6, 7, 8, 9].map(id));
  assert.equal(maxInFlight, 3);
  assert.equal(prefetcher.metrics.fetched, 9);
});

Deno.test("Prefetcher keeps the bytes in flight within its byte window", async () => {
  let inFlightBytes = 0;
  let maxBytes = 0;
  const prefetcher = new Prefetcher({
    records: records(20, 100),
    window: 100,
    windowBytes: 250,
    skip: () => false,
    fetch: async () => {
      inFlightBytes += 100;
      maxBytes = Math.max(maxBytes, inFlightBytes);
      await settle();
      inFlightBytes -= 100;
      return 100;
    },
  });
  prefetcher.start();
  while (prefetcher.busy()) await settle();
  assert.ok(maxBytes <= 300, `${maxBytes} bytes in flight`);
  assert.equal(prefetcher.metrics.fetched, 20);
});

Deno.test("Prefetcher counts what the build used, and stops once when the build diverges", async () => {
  const reasons: string[] = [];
  const prefetcher = new Prefetcher({
    records: records(200),
    window: 1,
    skip: () => false,
    fetch: async () => (await settle(), 10),
    onStop: (reason) => reasons.push(reason),
  });
  prefetcher.start();
  await settle();
  await settle();
  prefetcher.noteDemand(id(0));
  assert.equal(prefetcher.metrics.used, 1);
  for (let i = 0; i < 70; i++) prefetcher.noteDemand(id(1000 + i)); // not in the manifest
  assert.equal(reasons.length, 1);
  assert.match(reasons[0]!, /only 1 of the build's first 64 gets/);
  await settle();
  assert.equal(prefetcher.busy(), false);
});

Deno.test("Prefetcher stops at the first failure", async () => {
  const reasons: string[] = [];
  const prefetcher = new Prefetcher({
    records: records(50),
    window: 1,
    skip: () => false,
    fetch: () => Promise.reject(new Error("timed out")),
    onStop: (reason) => reasons.push(reason),
  });
  prefetcher.start();
  await settle();
  await settle();
  assert.equal(prefetcher.busy(), false);
  assert.match(reasons.join(), /a fetch failed \(timed out\)/);
});

Deno.test("Prefetcher.finished() settles once every entry is fetched, or at once after a stop", async () => {
  const release: (() => void)[] = [];
  const prefetcher = new Prefetcher({
    records: records(4),
    window: 2,
    skip: () => false,
    fetch: () => new Promise((resolve) => release.push(() => resolve(10))),
  });
  let finished = false;
  prefetcher.start();
  const done = prefetcher.finished().then(() => finished = true);
  for (let i = 0; i < 3; i++) {
    release.shift()!();
    await settle();
    assert.equal(finished, false, `${i + 1} of 4 fetched`);
  }
  release.shift()!();
  await done;
  assert.equal(prefetcher.metrics.fetched, 4);
  const idle = new Prefetcher({
    records: records(2),
    skip: () => false,
    fetch: () => Promise.resolve(10),
  });
  const waiting = idle.finished(); // before start: it settles when a stop comes
  idle.stop("test", true);
  await waiting;
  const stopped = new Prefetcher({
    records: records(4),
    skip: () => false,
    fetch: () => Promise.resolve(10),
  });
  stopped.stop("test", true);
  await stopped.finished();
});

Deno.test("Prefetcher counts its budget in the bytes actually fetched, and stops when it is spent", async () => {
  const asked: number[] = [];
  const prefetcher = new Prefetcher({
    records: records(10, 100),
    window: 1,
    maxBytes: 250,
    skip: () => false,
    fetch: (_actionId, maxBytes) => (asked.push(maxBytes), Promise.resolve(100)),
  });
  prefetcher.start();
  await prefetcher.finished();
  assert.equal(prefetcher.metrics.fetched, 3);
  assert.equal(prefetcher.metrics.fetchedBytes, 300);
  assert.deepEqual(asked, [100, 100, 50], "never more than the claim, nor than the budget left");
});

Deno.test("Prefetcher stops trusting a manifest at the first entry whose size is not its claim", async () => {
  const reasons: string[] = [];
  const prefetcher = new Prefetcher({
    records: records(10, 1),
    window: 1,
    skip: () => false,
    fetch: (_actionId, maxBytes) => Promise.reject(new EntryTooLargeError(4 << 20, maxBytes)),
    onStop: (reason) => reasons.push(reason),
  });
  prefetcher.start();
  await prefetcher.finished();
  assert.equal(prefetcher.metrics.fetched, 0);
  assert.deepEqual(reasons.length, 1);
  assert.match(
    reasons[0]!,
    /says 1 bytes for action 0+, which holds 4194304: its sizes are not trusted/,
  );
  const smaller = new Prefetcher({
    records: records(10, 100),
    window: 1,
    skip: () => false,
    fetch: () => Promise.resolve(7),
    onStop: (reason) => reasons.push(reason),
  });
  smaller.start();
  await smaller.finished();
  assert.equal(smaller.metrics.fetched, 1, "a smaller entry than claimed stops it too");
  assert.match(reasons[1]!, /says 100 bytes .* which holds 7/);
});
