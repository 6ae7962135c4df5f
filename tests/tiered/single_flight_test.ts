/**
 * Single flight across the fleet: two processes' remote tiers over one in-memory remote and
 * one fake clock, so that claims, waits, renewals and expiry are checked in no time.
 */
import assert from "node:assert/strict";
import { SingleFlight } from "../../src/tiered/single_flight.ts";
import { Fetcher } from "../../src/tiered/fetcher.ts";
import { MemoryRemoteStore } from "../support/memory_remote_store.ts";
import { type TierParts, tierParts } from "../support/tier_parts.ts";
import { remoteEntryOf } from "../support/stores.ts";
import { tempDir } from "../support/tools.ts";
import { FakeClock, settle } from "../support/fake_clock.ts";
import type { Hit, RemoteEntry } from "../../src/store.ts";
import { id } from "../support/vectors.ts";

const A = id(1);
const LEASE_MILLIS = 5000;

/** The fleet's one remote, on a clock that the test moves. */
function fleetRemote(): { remote: MemoryRemoteStore; clock: FakeClock } {
  const clock = new FakeClock();
  return { remote: new MemoryRemoteStore({ clock }), clock };
}

/** One process of the fleet: its tier's parts, its single flight, and its fetcher. */
interface Runner {
  parts: TierParts;
  flight: SingleFlight;
  fetcher: Fetcher;
}

async function runner(
  dir: string,
  remote: MemoryRemoteStore,
  options: { owner: string; waitMillis?: number; readOnly?: boolean },
): Promise<Runner> {
  const parts = await tierParts(dir, remote, { readOnly: options.readOnly ?? false });
  const flight = new SingleFlight(parts, {
    waitMillis: options.waitMillis ?? 60_000,
    leaseMillis: LEASE_MILLIS,
    owner: options.owner,
  });
  return { parts, flight, fetcher: new Fetcher(parts, flight) };
}

/** What another runner's upload does: the entry appears, and its lease ends. */
async function upload(remote: MemoryRemoteStore, who: Runner, entry: RemoteEntry): Promise<void> {
  remote.entries.set(A, entry);
  who.flight.finished(A);
  await settle();
}

/**
 * Two runners on one remote: the first has missed A and holds its lease, and the second's
 * get of A is waiting for it.
 */
async function secondWaitsOnFirst(
  dirs: { path: string }[],
  secondOptions: { waitMillis?: number } = {},
) {
  const { remote, clock } = fleetRemote();
  const first = await runner(dirs[0]!.path, remote, { owner: "runner-a" });
  const second = await runner(dirs[1]!.path, remote, { owner: "runner-b", ...secondOptions });
  await first.fetcher.demand(A);
  const waiting = second.fetcher.demand(A) as Promise<Hit | undefined>;
  return { remote, clock, first, second, waiting };
}

/** Whether a get's promise has settled yet. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => done = true, () => done = true);
  await settle();
  return done;
}

Deno.test("SingleFlight: the first runner to miss claims the action; the second waits and is served its upload", async () => {
  await using dirA = await tempDir();
  await using dirB = await tempDir();
  const { remote, clock } = fleetRemote();
  const first = await runner(dirA.path, remote, { owner: "runner-a" });
  const second = await runner(dirB.path, remote, { owner: "runner-b" });
  assert.equal(await first.fetcher.demand(A), undefined, "a miss, at once: it compiles");
  assert.equal(remote.leases.get(A)?.owner, "runner-a");
  assert.ok(first.flight.holds(A) && first.flight.busy(), "renewals need the event loop");
  const waiting = second.fetcher.demand(A) as Promise<Hit | undefined>;
  await clock.advance(1000);
  assert.equal(await settled(waiting), false, "the second waits, where it would have compiled");
  const entry = await remoteEntryOf(new TextEncoder().encode("compiled once"));
  await upload(remote, first, entry);
  assert.equal(remote.leases.has(A), false, "the upload ends the lease");
  await clock.advance(300);
  const hit = await waiting;
  assert.equal(hit?.outputId, entry.outputId, "served like any remote hit");
  assert.equal(await Deno.readTextFile(hit!.diskPath), "compiled once");
  assert.equal(first.flight.counters().fleetLeasesTaken, 1);
  assert.equal(first.flight.counters().fleetLeasesReleased, 1);
  const waited = second.flight.counters();
  assert.equal(waited.fleetWaits, 1);
  assert.equal(waited.fleetWaitHits, 1);
  assert.equal(waited.fleetLeasesTaken, 0);
  assert.ok(waited.fleetPolls! >= 5, `it asked again with backoff (${waited.fleetPolls} polls)`);
  assert.ok(waited.fleetWaitMillis! >= 1000);
  assert.equal(second.fetcher.counters().demandFound, 1);
  assert.equal(second.flight.busy(), false);
});

Deno.test("SingleFlight: a runner whose build ended without putting releases its leases at close, and a waiter takes over", async () => {
  await using dirA = await tempDir();
  await using dirB = await tempDir();
  const { remote, clock, first, second, waiting } = await secondWaitsOnFirst([dirA, dirB]);
  await clock.advance(500);
  await first.flight.close(); // its compile failed: nothing was put
  assert.equal(first.flight.counters().fleetLeasesReleasedAtClose, 1);
  await clock.advance(300);
  assert.equal(await waiting, undefined, "a miss: the second compiles it now");
  assert.equal(remote.leases.get(A)?.owner, "runner-b", "holding the lease itself");
  assert.equal(second.flight.counters().fleetTakeovers, 1);
  assert.equal(second.flight.counters().fleetLeasesTaken, 1);
  assert.ok(second.flight.counters().fleetWaitMillis! < 1000, "not held past the close");
  await second.flight.close();
  assert.equal(remote.leases.size, 0);
});

Deno.test("SingleFlight: leases are renewed while their owner runs, and a killed owner's expire within one lifetime", async () => {
  await using dirA = await tempDir();
  await using dirB = await tempDir();
  const { remote, clock } = fleetRemote();
  const first = await runner(dirA.path, remote, { owner: "runner-a" });
  const second = await runner(dirB.path, remote, { owner: "runner-b" });
  await first.fetcher.demand(A);
  await clock.advance(4 * LEASE_MILLIS); // a 20 s compile
  assert.equal(remote.leases.get(A)?.owner, "runner-a", "renewed, never taken over");
  assert.ok(remote.callsOf("renewLeases").length >= 15, "about one a second");
  // A runner killed with kill -9 holds a lease that nobody renews.
  const killed = id(2);
  remote.leases.set(killed, { owner: "killed", expiresAt: clock.now() + LEASE_MILLIS });
  const waiting = second.fetcher.demand(killed) as Promise<Hit | undefined>;
  await clock.advance(LEASE_MILLIS - 500);
  assert.equal(await settled(waiting), false, "waiting while the lease lives");
  await clock.advance(1000);
  assert.equal(await waiting, undefined);
  assert.equal(remote.leases.get(killed)?.owner, "runner-b", "taken over once it expired");
  assert.equal(second.flight.counters().fleetTakeovers, 1);
  await first.flight.close();
  await second.flight.close();
});

Deno.test("SingleFlight: a lease found taken at a renewal is counted lost and let go", async () => {
  await using dir = await tempDir();
  const { remote, clock } = fleetRemote();
  const only = await runner(dir.path, remote, { owner: "runner-a" });
  await only.fetcher.demand(A);
  remote.leases.set(A, { owner: "runner-c", expiresAt: clock.now() + LEASE_MILLIS });
  await clock.advance(LEASE_MILLIS);
  assert.equal(only.flight.counters().fleetLeasesLost, 1);
  assert.equal(only.flight.holds(A), false);
  await only.flight.close();
  assert.equal(remote.leases.get(A)?.owner, "runner-c", "another's lease is never released");
});

Deno.test("SingleFlight: a get waits at most its budget, then is a miss that compiles as before", async () => {
  await using dirA = await tempDir();
  await using dirB = await tempDir();
  const { remote, clock, first, second, waiting } = await secondWaitsOnFirst([dirA, dirB], {
    waitMillis: 2000,
  });
  await clock.advance(1900);
  assert.equal(await settled(waiting), false);
  await clock.advance(200);
  assert.equal(await waiting, undefined);
  const counters = second.flight.counters();
  assert.equal(counters.fleetWaitsGivenUp, 1);
  assert.ok(counters.fleetWaitMillis! >= 2000 && counters.fleetWaitMillis! < 2300);
  assert.equal(remote.leases.get(A)?.owner, "runner-a", "the lease stays its owner's");
  await first.flight.close();
});

Deno.test("SingleFlight: a read-only runner waits for a lease but never takes one", async () => {
  await using dirA = await tempDir();
  await using dirB = await tempDir();
  const { remote, clock } = fleetRemote();
  const reader = await runner(dirB.path, remote, { owner: "reader", readOnly: true });
  assert.equal(await reader.fetcher.demand(id(3)), undefined, "nobody compiles it: a miss");
  assert.equal(remote.leases.size, 0, "and no lease taken");
  const writer = await runner(dirA.path, remote, { owner: "writer" });
  await writer.fetcher.demand(A);
  const waiting = reader.fetcher.demand(A) as Promise<Hit | undefined>;
  await clock.advance(200);
  await upload(remote, writer, await remoteEntryOf(new TextEncoder().encode("from the writer")));
  await clock.advance(300);
  assert.equal((await waiting)?.source, "remote");
  assert.equal(reader.flight.counters().fleetWaitHits, 1);
  assert.equal(reader.flight.counters().fleetLeasesTaken, 0);
  assert.equal(reader.flight.busy(), false);
});

Deno.test("SingleFlight: a remote that freezes while a get waits makes it a miss within a deadline, and opens the breaker", async () => {
  await using dirA = await tempDir();
  await using dirB = await tempDir();
  const { remote, clock, first, second, waiting } = await secondWaitsOnFirst([dirA, dirB]);
  await clock.advance(500);
  remote.fault = "frozen";
  const frozeAt = clock.now();
  await clock.advance(400);
  assert.equal(await waiting, undefined, "a miss");
  // It waited until the freeze, then at most one pause and one deadline (50 ms here).
  assert.ok(second.flight.counters().fleetWaitMillis! <= frozeAt + 300, "within a deadline");
  assert.equal(second.flight.counters().fleetWaitsGivenUp, 1);
  assert.equal(second.parts.link.allows(), false, "the breaker is open: no more waits");
  assert.equal(second.fetcher.counters().demandErrors, 1);
  assert.equal(await second.fetcher.demand(id(4)), undefined, "and next gets are not asked");
  remote.fault = undefined;
  await first.flight.close();
});

Deno.test("SingleFlight: with no wait budget, gets neither claim nor wait", async () => {
  await using dir = await tempDir();
  const { remote } = fleetRemote();
  const off = await runner(dir.path, remote, { owner: "runner-a", waitMillis: 0 });
  assert.equal(off.flight.appliesTo(remote), false);
  assert.equal(await off.fetcher.demand(A), undefined);
  assert.equal(remote.callsOf("getOrClaim").length, 0);
  assert.equal(remote.callsOf("get").length, 1, "a plain get, as before");
  assert.equal(remote.leases.size, 0);
});
