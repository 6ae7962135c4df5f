/** The RESP2 codec over bytes, without a server: replies split anywhere, malformed, cut short. */
import assert from "node:assert/strict";
import {
  encodeCommand,
  type ReadInto,
  RespProtocolError,
  RespReader,
} from "../../src/redis/resp_codec.ts";
import { RedisReplyError } from "../../src/redis/transport.ts";
import { RemoteAuthError, RemoteFullError, RemoteUnavailableError } from "../../src/errors.ts";

const encoder = new TextEncoder();

/** Reads `bytes` in pieces of at most `piece` bytes, then the end of the stream. */
function source(bytes: Uint8Array, piece: number): ReadInto {
  let offset = 0;
  return (into) => {
    if (offset >= bytes.length) return Promise.resolve(null);
    const count = Math.min(piece, into.length, bytes.length - offset);
    into.set(bytes.subarray(offset, offset + count));
    offset += count;
    return Promise.resolve(count);
  };
}

/** Every reply in `text`, read a piece at a time. */
async function replies(text: string | Uint8Array, piece: number) {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  const reader = new RespReader(source(bytes, piece));
  const read = [];
  for (let consumed = 0; consumed < 100; consumed++) {
    try {
      read.push(await reader.readReply());
    } catch (error) {
      if (error instanceof RemoteUnavailableError && read.length > 0) break; // the end
      throw error;
    }
  }
  return read;
}

Deno.test("RespReader reads every kind of reply, however the bytes are split", async () => {
  const big = new Uint8Array(200_000).map((_, i) => i % 251);
  const stream = new Uint8Array([
    ...encoder.encode("+OK\r\n:42\r\n:-1\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n"),
    ...encoder.encode("*3\r\n$1\r\na\r\n:7\r\n*1\r\n$-1\r\n"),
    ...encoder.encode(`$${big.length}\r\n`),
    ...big,
    ...encoder.encode("\r\n"),
  ]);
  for (const piece of [1, 2, 3, 7, 64, 65536]) {
    const read = await replies(stream, piece);
    assert.deepEqual(read.slice(0, 9), [
      encoder.encode("OK"),
      42,
      -1,
      encoder.encode("hello"),
      new Uint8Array(0),
      null,
      null,
      [encoder.encode("a"), 7, [null]],
      big,
    ], `in pieces of ${piece}`);
  }
});

Deno.test("RespReader gives error replies as the typed errors their codes stand for", async () => {
  const [full, auth, other] = await replies(
    "-OOM command not allowed\r\n-WRONGPASS invalid\r\n-READONLY replica\r\n",
    5,
  );
  assert.ok(full instanceof RemoteFullError);
  assert.ok(auth instanceof RemoteAuthError);
  assert.ok(other instanceof RedisReplyError && other.code === "READONLY");
});

Deno.test("RespReader reads a bulk value into the caller's array, and says its length first", async () => {
  const reader = new RespReader(source(encoder.encode("$4\r\nabcd\r\n$2\r\nxy\r\n"), 3));
  const into = new Uint8Array(4);
  const lengths: number[] = [];
  const options = { into: () => into, onBulkLength: (length: number) => lengths.push(length) };
  assert.equal(await reader.readReply(options), into, "the reply is the caller's array");
  assert.equal(new TextDecoder().decode(into), "abcd");
  const other = await reader.readReply(options);
  assert.notEqual(other, into, "a value of another length gets its own array");
  assert.deepEqual(lengths, [4, 2]);
});

Deno.test("RespReader refuses malformed replies, and a stream cut short inside one", async () => {
  for (
    const text of [
      "?what\r\n",
      ":12x\r\n",
      "$abc\r\n",
      "*1\r\n-ERR nested\r\n",
      "$3\r\nabcdef\r\n",
      "+OK\rX",
      `+${"x".repeat(70_000)}\r\n`,
    ]
  ) {
    await assert.rejects(replies(text, 7), RespProtocolError, JSON.stringify(text.slice(0, 20)));
  }
  for (const text of ["$10\r\nshort", "*2\r\n:1\r\n", "+OK"]) {
    const reader = new RespReader(source(encoder.encode(text), 4));
    await assert.rejects(reader.readReply(), RemoteUnavailableError, text);
  }
});

Deno.test("encodeCommand() frames text, bytes and values of several parts without joining them", () => {
  const body = new Uint8Array([0, 13, 10, 255]);
  const { parts, bytes } = encodeCommand(["SET", "k", [encoder.encode("ab"), body]]);
  assert.equal(bytes, 3 + 1 + 6);
  assert.ok(parts.includes(body), "the body is written as it is, not copied");
  const written = parts.flatMap((part) => [...part]);
  assert.deepEqual(
    written,
    [...encoder.encode("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\nab"), 0, 13, 10, 255, 13, 10],
  );
});
