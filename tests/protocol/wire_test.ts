import assert from "node:assert/strict";
import {
  decodeRequest,
  encodeResponse,
  formatRfc3339Nanos,
  HANDSHAKE_LINE,
} from "../../src/protocol/wire.ts";
import { base64IdToHex, hexIdToBase64 } from "../../src/util/ids.ts";

// Constants from the protocol document's test vectors.
const A1_HEX = "a05ab2cd314eed12ab0fcdecaa46dc121c69370bc8d37d72be6ca989464f76c4";
const A1 = "oFqyzTFO7RKrD83sqkbcEhxpNwvI031yvmypiUZPdsQ=";
const O_HELLO_HEX = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const O_HELLO = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";

Deno.test("base64IdToHex() decodes the vectors' IDs and refuses anything but 32 bytes", () => {
  assert.equal(base64IdToHex(A1), A1_HEX);
  assert.equal(hexIdToBase64(O_HELLO_HEX), O_HELLO);
  assert.equal(base64IdToHex("LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ"), undefined); // URL-safe
  assert.equal(base64IdToHex("aGVsbG8="), undefined); // 5 bytes
  assert.equal(base64IdToHex(""), undefined);
});

Deno.test("decodeRequest() reads get, put and close as the go command writes them", () => {
  assert.deepEqual(decodeRequest(`{"ID":1,"Command":"get","ActionID":"${A1}"}`), {
    id: 1,
    command: "get",
    bodySize: 0,
    actionId: A1_HEX,
  });
  assert.deepEqual(
    decodeRequest(
      `{"ID":2,"Command":"put","ActionID":"${A1}","OutputID":"${O_HELLO}","BodySize":5}`,
    ),
    { id: 2, command: "put", bodySize: 5, actionId: A1_HEX, outputId: O_HELLO_HEX },
  );
  assert.deepEqual(decodeRequest(`{"ID":6,"Command":"close"}`), {
    id: 6,
    command: "close",
    bodySize: 0,
  });
});

Deno.test("decodeRequest() accepts the Go 1.21-1.23 ObjectID, and OutputID first when both are sent", () => {
  const old = decodeRequest(
    `{"ID":2,"Command":"put","ActionID":"${A1}","ObjectID":"${O_HELLO}","BodySize":5}`,
  );
  assert.equal(old.outputId, O_HELLO_HEX);
  const both = decodeRequest(
    `{"ID":2,"Command":"put","ActionID":"${A1}","OutputID":"${O_HELLO}","BodySize":5,"ObjectID":"${A1}"}`,
  );
  assert.equal(both.outputId, O_HELLO_HEX);
});

Deno.test("decodeRequest() marks well-framed but unusable requests as invalid", () => {
  assert.match(
    decodeRequest(`{"ID":3,"Command":"get2","ActionID":"${A1}"}`).invalid ?? "",
    /unknown command/,
  );
  assert.match(
    decodeRequest(`{"ID":3,"Command":"get","ActionID":"abc"}`).invalid ?? "",
    /invalid ActionID/,
  );
  assert.match(decodeRequest(`{"ID":3,"Command":"get"}`).invalid ?? "", /invalid ActionID/);
  assert.match(
    decodeRequest(`{"ID":3,"Command":"put","ActionID":"${A1}","BodySize":1}`).invalid ?? "",
    /invalid OutputID/,
  );
});

Deno.test("decodeRequest() throws a SyntaxError naming the request when the stream cannot be followed", () => {
  assert.throws(
    () => decodeRequest("hello"),
    (error: Error) => error instanceof SyntaxError && /"hello"/.test(error.message),
  );
  assert.throws(() => decodeRequest("[1]"), /not a JSON object/);
  assert.throws(() => decodeRequest(`{"Command":"get"}`), /no valid "ID"/);
  assert.throws(() => decodeRequest(`{"ID":1.5,"Command":"get"}`), /no valid "ID"/);
  assert.throws(
    () => decodeRequest(`{"ID":7,"Command":"put","BodySize":-1}`),
    /request 7: invalid "BodySize"/,
  );
});

Deno.test("encodeResponse() writes Go's field names and leaves zero values out", () => {
  assert.equal(HANDSHAKE_LINE, `{"ID":0,"KnownCommands":["get","put","close"]}\n`);
  assert.equal(encodeResponse({ id: 1, miss: true }), `{"ID":1,"Miss":true}\n`);
  assert.equal(encodeResponse({ id: 6 }), `{"ID":6}\n`);
  assert.equal(encodeResponse({ id: 9, err: "disk full" }), `{"ID":9,"Err":"disk full"}\n`);
  const hit = JSON.parse(encodeResponse({
    id: 4,
    outputId: O_HELLO_HEX,
    size: 5,
    timeNanos: 1_735_787_045_123_456_789n,
    diskPath: "/cache/2c/x-d",
  }));
  assert.deepEqual(hit, {
    ID: 4,
    OutputID: O_HELLO,
    Size: 5,
    Time: "2025-01-02T03:04:05.123456789Z",
    DiskPath: "/cache/2c/x-d",
  });
  const empty = JSON.parse(
    encodeResponse({ id: 5, outputId: O_HELLO_HEX, size: 0, diskPath: "/e" }),
  );
  assert.equal("Size" in empty, false);
});

Deno.test("formatRfc3339Nanos() keeps all nine fractional digits", () => {
  assert.equal(formatRfc3339Nanos(0n), "1970-01-01T00:00:00.000000000Z");
  assert.equal(formatRfc3339Nanos(1_000_000_001n), "1970-01-01T00:00:01.000000001Z");
});
