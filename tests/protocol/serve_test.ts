import assert from "node:assert/strict";
import { serve } from "../../src/protocol/serve.ts";
import { byteSourceFromStream } from "../../src/protocol/byte_source.ts";
import { DiskStore } from "../../src/local/disk_store.ts";
import { Logger } from "../../src/util/log.ts";
import { ServeMetrics } from "../../src/protocol/serve_metrics.ts";
import type { CacheStore, Hit, PutRequest, PutWriter } from "../../src/store.ts";
import { tempDir } from "../support/tools.ts";

const A1 = "oFqyzTFO7RKrD83sqkbcEhxpNwvI031yvmypiUZPdsQ=";
const A2 = "jlnO4wpl4Sj6No4nfqv24C+UwENq0iMDOzWrPNRwyDE=";
const O_HELLO = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";

/** Runs a session over the given input text and returns every output line, parsed. */
async function session(
  store: CacheStore | (() => Promise<CacheStore>),
  input: string,
  logLines: string[] = [],
  metrics = new ServeMetrics(),
): Promise<{ responses: Record<string, unknown>[]; end: string }> {
  const written: string[] = [];
  const end = await serve(store, {
    input: byteSourceFromStream(ReadableStream.from([new TextEncoder().encode(input)])),
    output: (bytes) => {
      written.push(new TextDecoder().decode(bytes));
    },
    logger: new Logger((line) => logLines.push(line)),
    metrics,
  });
  const responses = written.join("").split("\n").filter((line) => line !== "").map((line) =>
    JSON.parse(line)
  );
  return { responses, end };
}

/** A store whose gets answer later, in an order the test chooses. */
class DelayedStore implements CacheStore {
  delays = new Map<string, number>();
  get(actionId: string): Promise<Hit | undefined> {
    return new Promise((resolve) =>
      setTimeout(() => resolve(undefined), this.delays.get(actionId) ?? 0)
    );
  }
  startPut(_request: PutRequest): PutWriter {
    throw new Error("read-only");
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

Deno.test("serve() writes the handshake before the store is opened", async () => {
  let handshakeSeen = false;
  const written: string[] = [];
  const input = byteSourceFromStream(
    ReadableStream.from([new TextEncoder().encode('{"ID":1,"Command":"close"}\n\n')]),
  );
  await serve(() => {
    handshakeSeen = written.join("").startsWith('{"ID":0,"KnownCommands":["get","put","close"]}\n');
    return Promise.resolve(new DelayedStore());
  }, {
    input,
    output: (bytes) => {
      written.push(new TextDecoder().decode(bytes));
    },
  });
  assert.equal(handshakeSeen, true);
});

Deno.test("serve() runs the protocol document's happy session (V1)", async () => {
  await using dir = await tempDir();
  const metrics = new ServeMetrics();
  const { responses, end } = await session(
    () => DiskStore.open(dir.path),
    `{"ID":1,"Command":"get","ActionID":"${A1}"}\n\n` +
      `{"ID":2,"Command":"put","ActionID":"${A1}","OutputID":"${O_HELLO}","BodySize":5}\n\n"aGVsbG8="\n` +
      `{"ID":3,"Command":"put","ActionID":"${A2}","OutputID":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}\n\n` +
      `{"ID":4,"Command":"get","ActionID":"${A1}"}\n\n` +
      `{"ID":5,"Command":"get","ActionID":"${A2}"}\n\n` +
      `{"ID":6,"Command":"close"}\n\n`,
    [],
    metrics,
  );
  assert.equal(end, "close");
  const hello = `${dir.path}/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824-d`;
  const empty = `${dir.path}/e3/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855-d`;
  assert.deepEqual(responses.slice(0, 4), [
    { ID: 0, KnownCommands: ["get", "put", "close"] },
    { ID: 1, Miss: true },
    { ID: 2, DiskPath: hello },
    { ID: 3, DiskPath: empty },
  ]);
  assert.deepEqual({ ...responses[4], Time: "t" }, {
    ID: 4,
    OutputID: O_HELLO,
    Size: 5,
    Time: "t",
    DiskPath: hello,
  });
  assert.match(String(responses[4]!.Time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.equal(responses[5]!.Size, undefined, "zero size is left out");
  assert.deepEqual(responses[6], { ID: 6 });
  assert.equal(responses.length, 7);
  assert.equal(await Deno.readTextFile(hello), "hello");
  assert.deepEqual(
    [metrics.gets, metrics.hits, metrics.misses, metrics.puts, metrics.bytesWritten],
    [3, 2, 1, 2, 5],
  );
});

Deno.test("serve() answers requests out of order, as each finishes (V3)", async () => {
  const store = new DelayedStore();
  store.delays.set("8e59cee30a65e128fa368e277eabf6e02f94c0436ad223033b35ab3cd470c831", 30);
  const { responses } = await session(
    store,
    `{"ID":8,"Command":"get","ActionID":"${A2}"}\n\n{"ID":7,"Command":"get","ActionID":"${A1}"}\n\n`,
  );
  assert.deepEqual(responses.slice(1).map((response) => response.ID), [7, 8]);
});

Deno.test("serve() answers each of many concurrent requests exactly once", async () => {
  const store = new DelayedStore();
  let input = "";
  for (let id = 1; id <= 500; id++) {
    const action = new Uint8Array(32).fill(id % 256);
    store.delays.set(action.toHex(), id % 7);
    input += JSON.stringify({ ID: id, Command: "get", ActionID: action.toBase64() }) + "\n\n";
  }
  const { responses, end } = await session(store, input);
  assert.equal(end, "eof");
  const ids = responses.slice(1).map((response) => response.ID as number).sort((a, b) => a - b);
  assert.deepEqual(ids, Array.from({ length: 500 }, (_, i) => i + 1));
});

Deno.test("serve() answers a malformed request with an error naming it, and goes on", async () => {
  await using dir = await tempDir();
  const logs: string[] = [];
  const { responses } = await session(
    () => DiskStore.open(dir.path),
    `{"ID":1,"Command":"frobnicate"}\n\n{"ID":2,"Command":"get","ActionID":"short"}\n\n` +
      `{"ID":3,"Command":"get","ActionID":"${A1}"}\n\n`,
    logs,
  );
  assert.match(String(responses[1]!.Err), /request 1 "frobnicate".*unknown command/);
  assert.match(String(responses[2]!.Err), /request 2 "get".*invalid ActionID/);
  assert.deepEqual(responses[3], { ID: 3, Miss: true });
  assert.ok(logs.some((line) => line.includes("request 1")), logs.join("\n"));
  assert.ok(logs.some((line) => line.includes("request 2")), logs.join("\n"));
});

Deno.test("serve() refuses a put whose body does not match its OutputID or BodySize", async () => {
  await using dir = await tempDir();
  const { responses } = await session(
    () => DiskStore.open(dir.path),
    `{"ID":1,"Command":"put","ActionID":"${A1}","OutputID":"${O_HELLO}","BodySize":5}\n\n"aGVsbA=="\n` +
      `{"ID":2,"Command":"put","ActionID":"${A1}","OutputID":"${A2}","BodySize":5}\n\n"aGVsbG8="\n` +
      `{"ID":3,"Command":"get","ActionID":"${A1}"}\n\n`,
  );
  assert.match(String(responses[1]!.Err), /BodySize is 5/);
  assert.match(String(responses[2]!.Err), /SHA-256/);
  assert.deepEqual(responses[3], { ID: 3, Miss: true }, "nothing was stored");
});

Deno.test("serve() ends with a SyntaxError naming the request on an undecodable stream", async () => {
  await using dir = await tempDir();
  await assert.rejects(session(() => DiskStore.open(dir.path), "hello\n"), SyntaxError);
  await assert.rejects(
    session(
      () => DiskStore.open(dir.path),
      `{"ID":4,"Command":"put","ActionID":"${A1}","OutputID":"${O_HELLO}","BodySize":5}\n\n"aGVs{"ID":5}\n`,
    ),
    /request 4/,
  );
});

Deno.test("serve() finishes pending work on end of input without close", async () => {
  await using dir = await tempDir();
  const { responses, end } = await session(
    () => DiskStore.open(dir.path),
    `{"ID":1,"Command":"put","ActionID":"${A1}","OutputID":"${O_HELLO}","BodySize":5}\n\n"aGVsbG8="\n`,
  );
  assert.equal(end, "eof");
  assert.ok(typeof responses[1]!.DiskPath === "string");
  assert.equal(
    (await DiskStore.open(dir.path)).get(
      "a05ab2cd314eed12ab0fcdecaa46dc121c69370bc8d37d72be6ca989464f76c4",
    )?.size,
    5,
  );
});

Deno.test("serve() reports a failing store once and answers with errors", async () => {
  const logs: string[] = [];
  const failing: CacheStore = {
    get: () => {
      throw new Error("disk on fire");
    },
    startPut: () => {
      throw new Error("disk on fire");
    },
    close: () => Promise.resolve(),
  };
  const { responses } = await session(
    failing,
    `{"ID":1,"Command":"get","ActionID":"${A1}"}\n\n{"ID":2,"Command":"get","ActionID":"${A2}"}\n\n`,
    logs,
  );
  assert.match(String(responses[1]!.Err), /disk on fire/);
  assert.match(String(responses[2]!.Err), /disk on fire/);
  assert.equal(logs.filter((line) => line.includes("disk on fire")).length, 1, logs.join("\n"));
});

Deno.test("serve() lets the store do its deferred work only once every answer is written", async () => {
  const events: string[] = [];
  class IdleStore extends DelayedStore {
    readonly background = { busy: () => false, runDeferred: () => void events.push("idle") };
  }
  const store = new IdleStore();
  store.delays.set(base64ToHex(A1), 20);
  store.delays.set(base64ToHex(A2), 5);
  const input = new TextEncoder().encode(
    `{"ID":1,"Command":"get","ActionID":"${A1}"}\n{"ID":2,"Command":"get","ActionID":"${A2}"}\n`,
  );
  // The input stays open until both answers are in, as the go command's would.
  let answered = () => {};
  const bothAnswered = new Promise<void>((resolve) => answered = resolve);
  const source = byteSourceFromStream(
    new ReadableStream({
      async start(controller) {
        controller.enqueue(input);
        await bothAnswered;
        controller.enqueue(new TextEncoder().encode('{"ID":3,"Command":"close"}\n'));
        controller.close();
      },
    }),
  );
  await serve(store, {
    input: source,
    output: (bytes) => {
      for (const line of new TextDecoder().decode(bytes).split("\n")) {
        const id = line === "" ? undefined : JSON.parse(line).ID;
        if (id === 1 || id === 2) events.push(`answer ${id}`);
      }
      if (events.filter((event) => event.startsWith("answer")).length === 2) answered();
    },
  });
  // Not after answer 2 alone: request 1 was still in flight then.
  assert.deepEqual(events.slice(0, 3), ["answer 2", "answer 1", "idle"]);
});

Deno.test("serve() warns once per kind of failure, not once per path", async () => {
  const logLines: string[] = [];
  class FailingStore extends DelayedStore {
    override get(actionId: string): Promise<Hit | undefined> {
      return Promise.reject(new Deno.errors.PermissionDenied(`open ${actionId}-a: denied`));
    }
  }
  const { responses } = await session(
    new FailingStore(),
    `{"ID":1,"Command":"get","ActionID":"${A1}"}\n\n{"ID":2,"Command":"get","ActionID":"${A2}"}\n\n`,
    logLines,
  );
  assert.match(String(responses[1]!.Err), /denied/);
  assert.match(String(responses[2]!.Err), /denied/);
  assert.equal(logLines.filter((line) => line.includes("warning:")).length, 1, logLines.join("\n"));
});

function base64ToHex(base64: string): string {
  return Uint8Array.fromBase64(base64).toHex();
}
