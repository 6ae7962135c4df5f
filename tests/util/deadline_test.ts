import assert from "node:assert/strict";
import { afterUnlessCancelled, withDeadline } from "../../src/util/deadline.ts";
import { DeadlineError } from "../../src/errors.ts";

Deno.test("withDeadline() passes the work's result or error through, and rejects with a DeadlineError when it is late", async () => {
  assert.equal(await withDeadline(Promise.resolve(7), 1000, "quick"), 7);
  await assert.rejects(withDeadline(Promise.reject(new RangeError("own")), 1000, "x"), RangeError);
  // The late work keeps the process alive, as a socket's pending read does in real use.
  let finish = () => {};
  const late = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 200);
    finish = () => (clearTimeout(timer), resolve());
  });
  const started = performance.now();
  await assert.rejects(withDeadline(late, 30, "connecting"), (error) => {
    assert.ok(error instanceof DeadlineError);
    assert.match(error.message, /connecting/);
    return true;
  });
  assert.ok(performance.now() - started >= 25, "not before its time");
  finish();
});

Deno.test("afterUnlessCancelled() calls back once the time has passed, and never once cancelled", async () => {
  let called = 0;
  let cancelledCalled = 0;
  afterUnlessCancelled(10, () => called++);
  const cancel = afterUnlessCancelled(10, () => cancelledCalled++);
  cancel();
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(called, 1);
  assert.equal(cancelledCalled, 0);
});
