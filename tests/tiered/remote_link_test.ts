/** The remote link's breaker, probe and connection, over an in-memory remote. */
import assert from "node:assert/strict";
import { RemoteLink } from "../../src/tiered/remote_link.ts";
import { TierMetrics } from "../../src/tiered/tier_metrics.ts";
import { DeadlineError, RemoteFullError, RemoteUnavailableError } from "../../src/errors.ts";
import { captureLogger, MemoryRemoteStore } from "../support/memory_remote_store.ts";

function link(remote: MemoryRemoteStore | Promise<MemoryRemoteStore>, cooldownMillis = 5000) {
  const log = captureLogger();
  const metrics = new TierMetrics();
  const made = new RemoteLink({
    remote,
    logger: log.logger,
    metrics,
    timeoutMillis: 50,
    breakerCooldownMillis: cooldownMillis,
  });
  return { link: made, log, metrics };
}

Deno.test("RemoteLink opens its breaker at once on a missed deadline, and says so once", async () => {
  const { link: l, log, metrics } = link(new MemoryRemoteStore());
  assert.ok(await l.acquire(), "connected");
  l.failed(new DeadlineError("GETEX", 50));
  assert.equal(l.allows(), false);
  assert.equal(l.state, "down");
  l.failed(new DeadlineError("GETEX", 50));
  assert.equal(metrics.breakerTrips, 1);
  assert.equal(log.warnings().length, 1);
  assert.match(log.warnings()[0]!, /memory remote is unavailable \(GETEX timed out after 50 ms\)/);
});

Deno.test("RemoteLink opens its breaker after three other errors in a row, not fewer", async () => {
  const { link: l } = link(new MemoryRemoteStore());
  await l.connected;
  l.failed(new RemoteUnavailableError("reset"));
  l.failed(new RemoteUnavailableError("reset"));
  l.succeeded();
  l.failed(new RemoteUnavailableError("reset"));
  l.failed(new RemoteUnavailableError("reset"));
  assert.equal(l.allows(), true, "a success in between starts the count again");
  l.failed(new RemoteUnavailableError("reset"));
  assert.equal(l.allows(), false);
});

Deno.test("RemoteLink takes a full remote for full, not down: reads go on, one warning", async () => {
  const { link: l, log, metrics } = link(new MemoryRemoteStore());
  await l.connected;
  for (let i = 0; i < 5; i++) l.failed(new RemoteFullError("OOM command not allowed"));
  assert.equal(l.allows(), true);
  assert.equal(metrics.breakerTrips, 0);
  assert.deepEqual(log.warnings().length, 1);
  assert.match(log.warnings()[0]!, /memory remote is full \(OOM/);
});

Deno.test("RemoteLink probes an open breaker after its cooldown, and closes it when the remote answers", async () => {
  const remote = new MemoryRemoteStore();
  const { link: l } = link(remote, 20);
  await l.connected;
  remote.fault = "refused";
  l.failed(new DeadlineError("GETEX", 50));
  assert.equal(l.allowsOrProbe(), false, "cooling down: no probe yet");
  assert.equal(remote.callsOf("ping").length, 0);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(l.allowsOrProbe(), false);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(remote.callsOf("ping").length, 1, "a probe was sent");
  assert.equal(l.allows(), false, "the probe failed: still open");
  remote.fault = undefined;
  await new Promise((resolve) => setTimeout(resolve, 30));
  l.allowsOrProbe();
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(l.allows(), true, "the probe succeeded: closed again");
});

Deno.test("RemoteLink that cannot connect is down at once, naming the cause once", async () => {
  const { link: l, log } = link(new MemoryRemoteStore({ ready: false }));
  assert.equal(await l.acquire(), undefined);
  assert.equal(l.state, "down");
  assert.equal(log.warnings().length, 1);
  assert.match(log.warnings()[0]!, /memory remote is unavailable \(memory remote refused\)/);
  const { link: failing } = link(Promise.reject(new Error("cannot load the remote's code")));
  assert.equal(await failing.acquire(), undefined);
  assert.equal(failing.state, "down");
});

Deno.test("RemoteLink that connects slowly: gets go on without it after one deadline, uploads wait for it", async () => {
  let connect!: (ready: boolean) => void;
  const remote = new MemoryRemoteStore({ ready: new Promise((resolve) => connect = resolve) });
  const { link: l, log, metrics } = link(remote);
  const started = performance.now();
  assert.equal(await l.acquire(), undefined, "a get goes on from local disk");
  assert.ok(performance.now() - started < 200, "after one deadline (50 ms)");
  assert.equal(l.state, "connecting");
  const upload = l.usable();
  await new Promise((resolve) => setTimeout(resolve, 100));
  connect(true);
  assert.equal(await upload, remote, "the upload waited for the connection");
  assert.equal(l.state, "up");
  assert.equal(await l.acquire(), remote);
  assert.equal(metrics.breakerTrips, 0);
  assert.equal(log.warnings().length, 0, "a slow connection is not a failure");
});

Deno.test("RemoteLink.usable() waits through an open breaker until a probe finds the remote again", async () => {
  const remote = new MemoryRemoteStore();
  const { link: l } = link(remote, 30);
  await l.connected;
  remote.fault = "refused";
  l.failed(new DeadlineError("SET", 50));
  let given: unknown = "waiting";
  const upload = l.usable().then((value) => given = value);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(given, "waiting", "the first probe failed");
  assert.ok(remote.callsOf("ping").length >= 1);
  remote.fault = undefined;
  await upload;
  assert.equal(given, remote);
  assert.equal(l.state, "up");
  const closing = link(new MemoryRemoteStore({ ready: false }));
  const waiting = closing.link.usable();
  await closing.link.close();
  assert.equal(await waiting, undefined, "closing the link ends the wait");
});
