import assert from "node:assert/strict";
import { ResponseWriter } from "../../src/protocol/response_writer.ts";

Deno.test("ResponseWriter sends the lines of one turn in one write, in order", async () => {
  const writes: string[] = [];
  const writer = new ResponseWriter((bytes) => {
    writes.push(new TextDecoder().decode(bytes));
  });
  writer.send("a\n");
  writer.send("b\n");
  writer.send("c\n");
  await writer.flush();
  assert.deepEqual(writes, ["a\nb\nc\n"]);
});

Deno.test("ResponseWriter.writeNow() writes synchronously to a synchronous sink", () => {
  const writes: string[] = [];
  const writer = new ResponseWriter((bytes) => {
    writes.push(new TextDecoder().decode(bytes));
  });
  writer.send("x\n");
  assert.equal(writer.writeNow(), true);
  assert.deepEqual(writes, ["x\n"]);
});

Deno.test("ResponseWriter keeps order with a slow asynchronous sink", async () => {
  const writes: string[] = [];
  const writer = new ResponseWriter(async (bytes) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    writes.push(new TextDecoder().decode(bytes));
  });
  writer.send("1\n");
  await Promise.resolve();
  await Promise.resolve();
  writer.send("2\n");
  writer.send("3\n");
  assert.equal(writer.writeNow(), false, "a write is still in progress");
  await writer.flush();
  assert.equal(writes.join(""), "1\n2\n3\n");
});

Deno.test("ResponseWriter.flush() reports the sink's failure", async () => {
  const writer = new ResponseWriter(() => {
    throw new Deno.errors.BrokenPipe("gone");
  });
  writer.send("x\n");
  await assert.rejects(writer.flush(), Deno.errors.BrokenPipe);
});
