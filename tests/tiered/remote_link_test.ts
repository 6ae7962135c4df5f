/** The remote link's breaker, probe and connection, over an in-memory remote, on a fake clock. */
import assert from "node:assert/strict";
import { RemoteLink } from "../../src/tiered/remote_link.ts";
import {
  ClosedError,
  DeadlineError,
  RemoteFullError,
  RemoteUnavailableError,
} from "../../src/errors.ts";
import { MemoryRemoteStore } from "../support/memory_remote_store.ts";
import { captureLogger } from "../support/logger.ts";
import { FakeClock, settle } from "../support/fake_clock.ts";

function link(
  remote: MemoryRemoteStore | Promise<MemoryRemoteStore>,
  clock = new FakeClock(),
  cooldownMillis = 5000,
) {
  const log = captureLogger();
  const made = new RemoteLink({
    remote,
    logger: log.logger,
    clock,
    timeoutMillis: 50,
    breakerCooldownMillis: cooldownMillis,
  });
  return { link: made, log, clock };
}

Deno.test("RemoteLink opens its breaker at once on a missed deadline, and says so once", async () => {
  const { link: l, log } = link(new MemoryRemoteStore());
  assert.ok(await l.untilConnectedOrDeadline(), "connected");
  l.failed(new DeadlineError("GETEX", 50));
  assert.equal(l.allows(), false);
  assert.equal(l.state, "down");
  l.failed(new DeadlineError("GETEX", 50));
  assert.deepEqual(l.counters(), { breakerTrips: 1 });
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
  const { link: l, log } = link(new MemoryRemoteStore());
  await l.connected;
  for (let i = 0; i < 5; i++) l.failed(new RemoteFullError("OOM command not allowed"));
  assert.equal(l.allows(), true);
  assert.deepEqual(l.counters(), { breakerTrips: 0 });
  assert.equal(log.warnings().length, 1);
  assert.match(log.warnings()[0]!, /memory remote is full \(OOM/);
});

Deno.test("RemoteLink holds nothing cut off by our own close against the remote", async () => {
  const { link: l, log } = link(new MemoryRemoteStore());
  await l.connected;
  for (let i = 0; i < 5; i++) l.failed(new ClosedError("closed"));
  assert.equal(l.allows(), true);
  await l.close();
  l.failed(new DeadlineError("GETEX", 50));
  assert.deepEqual(l.counters(), { breakerTrips: 0 }, "after close, nothing is a failure");
  assert.deepEqual(log.warnings(), []);
});

Deno.test("RemoteLink probes an open breaker after its cooldown, and closes it when the remote answers", async () => {
  const remote = new MemoryRemoteStore();
  const { link: l, clock } = link(remote, remote.clock as FakeClock, 20);
  await l.connected;
  remote.fault = "refused";
  l.failed(new DeadlineError("GETEX", 50));
  assert.equal(l.allowsOrProbe(), false, "cooling down: no probe yet");
  await clock.advance(19);
  assert.equal(l.allowsOrProbe(), false);
  await settle();
  assert.equal(remote.callsOf("ping").length, 0, "not before its cooldown");
  await clock.advance(1);
  assert.equal(l.allowsOrProbe(), false);
  await settle();
  assert.equal(remote.callsOf("ping").length, 1, "a probe was sent");
  assert.equal(l.allows(), false, "the probe failed: still open");
  remote.fault = undefined;
  await clock.advance(20);
  l.allowsOrProbe();
  await settle();
  assert.equal(l.allows(), true, "the probe succeeded: closed again");
});

Deno.test("RemoteLink that cannot connect is down at once, naming the cause once", async () => {
  const { link: l, log } = link(new MemoryRemoteStore({ ready: false }));
  assert.equal(await l.untilConnectedOrDeadline(), undefined);
  assert.equal(l.state, "down");
  assert.equal(log.warnings().length, 1);
  assert.match(log.warnings()[0]!, /memory remote is unavailable \(memory remote refused\)/);
  const { link: failing } = link(Promise.reject(new Error("cannot load the remote's code")));
  assert.equal(await failing.untilConnectedOrDeadline(), undefined);
  assert.equal(failing.state, "down");
});

Deno.test("RemoteLink that connects slowly: gets go on without it after one deadline, uploads wait for it", async () => {
  let connect!: (ready: boolean) => void;
  const remote = new MemoryRemoteStore({ ready: new Promise((resolve) => connect = resolve) });
  const { link: l, log, clock } = link(remote);
  let given: unknown = "waiting";
  l.untilConnectedOrDeadline().then((value) => given = value);
  await clock.advance(49);
  assert.equal(given, "waiting", "a get waits for connecting, up to one deadline");
  await clock.advance(1);
  assert.equal(given, undefined, "then goes on from local disk");
  assert.equal(l.state, "connecting");
  let uploadGiven: unknown = "waiting";
  l.untilUp().then((value) => uploadGiven = value);
  await clock.advance(10_000);
  assert.equal(uploadGiven, "waiting", "an upload waits as long as connecting takes");
  connect(true);
  await settle();
  assert.equal(uploadGiven, remote, "then goes on");
  assert.equal(l.state, "up");
  assert.equal(await l.untilConnectedOrDeadline(), remote);
  assert.deepEqual(l.counters(), { breakerTrips: 0 });
  assert.equal(log.warnings().length, 0, "a slow connection is not a failure");
});

Deno.test("RemoteLink.untilUp() waits through an open breaker until a probe finds the remote again", async () => {
  const remote = new MemoryRemoteStore();
  const { link: l, clock } = link(remote, remote.clock as FakeClock, 30);
  await l.connected;
  remote.fault = "refused";
  l.failed(new DeadlineError("SET", 50));
  let given: unknown = "waiting";
  const upload = l.untilUp().then((value) => given = value);
  await clock.advance(60);
  assert.equal(given, "waiting", "the first probe failed");
  assert.ok(remote.callsOf("ping").length >= 1);
  remote.fault = undefined;
  await clock.advance(60);
  await upload;
  assert.equal(given, remote);
  assert.equal(l.state, "up");
  const closing = link(new MemoryRemoteStore({ ready: false }));
  const waiting = closing.link.untilUp();
  await closing.link.close();
  assert.equal(await waiting, undefined, "closing the link ends the wait");
});

/** A shared health record in memory, recording what the link tells it. */
function healthRecord(down: boolean) {
  const events: string[] = [];
  return {
    events,
    health: {
      knownDown: () => down,
      markDown: (reason: string) => void events.push(`down: ${reason}`),
      markUp: () => void events.push("up"),
    },
  };
}

Deno.test("RemoteLink that another process found down: gets go local at once, it connects in the background, and says when it is back", async () => {
  let connect!: (ready: boolean) => void;
  const remote = new MemoryRemoteStore({ ready: new Promise((resolve) => connect = resolve) });
  const { health, events } = healthRecord(true);
  const l = new RemoteLink({
    remote,
    logger: captureLogger().logger,
    clock: new FakeClock(),
    health,
  });
  assert.equal(l.state, "down", "down until this process connects");
  assert.equal(l.allowsOrProbe(), false, "a get does not ask");
  assert.equal(await l.untilConnectedOrDeadline(), undefined, "nor wait: no time passed");
  await l.untilDown(); // uploads at close do not wait either
  connect(true);
  await l.connected;
  assert.equal(l.state, "up");
  assert.deepEqual(events, ["up"], "the record is cleared for the next processes");
});

Deno.test("RemoteLink records a remote it found unreachable for the job's other processes", async () => {
  const { health, events } = healthRecord(false);
  const l = new RemoteLink({
    remote: new MemoryRemoteStore({ ready: false }),
    logger: captureLogger().logger,
    clock: new FakeClock(),
    health,
  });
  await l.connected;
  assert.deepEqual(events, ["down: memory remote refused"]);
  const healthy = healthRecord(false);
  const up = new RemoteLink({
    remote: new MemoryRemoteStore(),
    logger: captureLogger().logger,
    clock: new FakeClock(),
    health: healthy.health,
  });
  await up.connected;
  assert.deepEqual(healthy.events, [], "a healthy session writes nothing");
});
