import assert from "node:assert/strict";
import { RequestReader } from "../../src/protocol/request_reader.ts";
import { byteSourceFromStream } from "../../src/protocol/byte_source.ts";

/** A reader over the given pieces, delivered as separate chunks. */
function readerOver(...pieces: (string | Uint8Array)[]): RequestReader {
  const encoder = new TextEncoder();
  const chunks = pieces.map((piece) => typeof piece === "string" ? encoder.encode(piece) : piece);
  return new RequestReader(byteSourceFromStream(ReadableStream.from(chunks)));
}

async function readWholeBody(reader: RequestReader): Promise<{ bytes: Uint8Array; size: number }> {
  const parts: number[] = [];
  const result = await reader.readBody("request 1", (chunk) => {
    parts.push(...chunk);
  });
  return { bytes: new Uint8Array(parts), size: result.decodedSize };
}

Deno.test("RequestReader.readLine() skips the blank lines and joins lines split across chunks", async () => {
  const reader = readerOver('{"ID":1,"Com', 'mand":"get"}\n', "\n", '{"ID":2}\n\n');
  assert.equal(await reader.readLine(), '{"ID":1,"Command":"get"}');
  assert.equal(await reader.readLine(), '{"ID":2}');
  assert.equal(await reader.readLine(), undefined);
});

Deno.test("RequestReader.readLine() returns a last line without a newline", async () => {
  const reader = readerOver('{"ID":1}');
  assert.equal(await reader.readLine(), '{"ID":1}');
  assert.equal(await reader.readLine(), undefined);
});

Deno.test("RequestReader.readBody() decodes the padding vectors", async () => {
  for (
    const [text, expected] of [["YQ==", "a"], ["YWI=", "ab"], ["YWJj", "abc"], [
      "aGVsbG8=",
      "hello",
    ]]
  ) {
    const reader = readerOver(`\n"${text}"\n{"ID":3}\n`);
    const body = await readWholeBody(reader);
    assert.equal(new TextDecoder().decode(body.bytes), expected);
    assert.equal(await reader.readLine(), '{"ID":3}', "the stream stays in step after the body");
  }
});

Deno.test("RequestReader.readBody() decodes a body split at every kind of chunk boundary", async () => {
  const data = new Uint8Array(256).map((_, i) => i);
  const text = `"${data.toBase64()}"\n`;
  for (const cut of [1, 2, 3, 5, 100, text.length - 2]) {
    const reader = readerOver(text.slice(0, cut), text.slice(cut));
    const body = await readWholeBody(reader);
    assert.deepEqual(body.bytes, data, `cut at ${cut}`);
  }
});

Deno.test("RequestReader.readBody() streams a multi-megabyte body in pieces", async () => {
  const data = new Uint8Array(5 << 20);
  for (let offset = 0; offset < data.length; offset += 65536) {
    crypto.getRandomValues(data.subarray(offset, offset + 65536));
  }
  const text = new TextEncoder().encode(`"${data.toBase64()}"\n`);
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < text.length; offset += 65536) {
    chunks.push(text.subarray(offset, offset + 65536));
  }
  const reader = readerOver(...chunks);
  let calls = 0;
  let offset = 0;
  const result = await reader.readBody("request 1", (chunk) => {
    calls++;
    assert.deepEqual(chunk, data.subarray(offset, offset + chunk.length));
    offset += chunk.length;
  });
  assert.equal(result.decodedSize, data.length);
  assert.ok(calls > 1, "delivered in more than one piece");
});

Deno.test("RequestReader.readBody() reports a consumer's error but still reads the body to its end", async () => {
  const reader = readerOver(`"aGVsbG8="\n{"ID":9}\n`);
  const result = await reader.readBody("request 1", () => {
    throw new Error("disk full");
  });
  assert.equal(result.decodedSize, 5);
  assert.match(String(result.consumerError), /disk full/);
  assert.equal(await reader.readLine(), '{"ID":9}');
});

Deno.test("RequestReader.readBody() throws a SyntaxError for a broken body", async () => {
  await assert.rejects(
    readerOver(`"aGVs{"ID":2}\n`).readBody("request 1", () => {}),
    /request 1 is not valid base64/,
  );
  await assert.rejects(
    readerOver(`"aGVsbG8=`).readBody("request 1", () => {}),
    /ended inside the body of request 1/,
  );
  await assert.rejects(
    readerOver(`{"ID":2}\n`).readBody("request 1", () => {}),
    /Expected the body string of request 1/,
  );
});
