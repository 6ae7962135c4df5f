import assert from "node:assert/strict";
import { sleep, SYSTEM_CLOCK, withDeadline } from "../../src/util/clock.ts";
import { DeadlineError } from "../../src/errors.ts";
import { FakeClock } from "../support/fake_clock.ts";

Deno.test("withDeadline() passes the work's result or error through, and rejects with a DeadlineError when it is late", async () => {
  const clock = new FakeClock();
  assert.equal(await withDeadline(Promise.resolve(7), 1000, "quick", clock), 7);
  await assert.rejects(
    withDeadline(Promise.reject(new RangeError("own")), 1000, "x", clock),
    RangeError,
  );
  let settled = false;
  const late = withDeadline(new Promise(() => {}), 30, "connecting", clock)
    .catch((error: unknown) => error)
    .finally(() => settled = true);
  await clock.advance(29);
  assert.equal(settled, false, "not before its time");
  await clock.advance(1);
  const error = await late;
  assert.ok(error instanceof DeadlineError);
  assert.equal(error.operation, "connecting");
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("sleep() ends at its time or when what it waits for settles, and leaves no timer", async () => {
  const clock = new FakeClock();
  let woke = false;
  sleep(clock, 100).then(() => woke = true);
  await clock.advance(99);
  assert.equal(woke, false);
  await clock.advance(1);
  assert.equal(woke, true);
  let release!: () => void;
  const early = sleep(clock, 1000, new Promise<void>((resolve) => release = resolve));
  release();
  await early;
  assert.equal(clock.pendingTimers, 0, "the timer was cancelled");
});

Deno.test("SYSTEM_CLOCK calls back once the time has passed, and never once cancelled", async () => {
  let called = 0;
  let cancelledCalled = 0;
  const keepAlive = setTimeout(() => {}, 200);
  const started = SYSTEM_CLOCK.now();
  const done = new Promise<void>((resolve) => SYSTEM_CLOCK.after(10, () => (called++, resolve())));
  SYSTEM_CLOCK.after(10, () => cancelledCalled++)();
  await done;
  clearTimeout(keepAlive);
  assert.ok(SYSTEM_CLOCK.now() - started >= 9);
  assert.equal(called, 1);
  assert.equal(cancelledCalled, 0);
});
