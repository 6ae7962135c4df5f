import assert from "node:assert/strict";
import { InvalidRedisAddressError, parseRedisAddress } from "../../src/redis/address.ts";

Deno.test("parseRedisAddress() reads the forms users write", () => {
  assert.deepEqual(parseRedisAddress("cache:6380"), {
    host: "cache",
    port: 6380,
    db: 0,
    tls: false,
  });
  assert.deepEqual(parseRedisAddress("cache"), { host: "cache", port: 6379, db: 0, tls: false });
  assert.deepEqual(parseRedisAddress("rediss://u:p%40ss@10.0.0.1:7000/3"), {
    host: "10.0.0.1",
    port: 7000,
    db: 3,
    tls: true,
    username: "u",
    password: "p@ss",
  });
  assert.equal(parseRedisAddress("[::1]:6379").host, "::1");
  assert.throws(() => parseRedisAddress("http://x:1"), /redis:\/\//);
});

Deno.test("parseRedisAddress() never repeats an address it cannot read: it may be a password", () => {
  const printable = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join("");
  for (const password of [printable, "Zm9v/YmFy+c2VjcmV0", "p@ss@word", "a:b/c#d?e", "x]y[z"]) {
    const addresses = [
      `redis://:${password}@cache:6379`,
      `rediss://user:${password}@cache`,
      ...password.split(","), // what a list flag makes of a password holding a comma
    ];
    for (const address of addresses) {
      try {
        parseRedisAddress(address);
      } catch (error) {
        assert.ok(error instanceof InvalidRedisAddressError);
        assert.ok(!error.message.includes(address.slice(-6)), error.message);
        assert.match(error.message, /^Cannot read a Redis address/);
      }
    }
  }
});

Deno.test("parseRedisAddress() says when a port is out of range, rather than that it is not a URL", () => {
  for (const text of ["redis://127.0.0.1:99999", "cache:70000", "cache:0"]) {
    assert.throws(() => parseRedisAddress(text), /its port is not between 1 and 65535/, text);
  }
});
