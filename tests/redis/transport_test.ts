import assert from "node:assert/strict";
import { errorFromReply, RedisReplyError } from "../../src/redis/transport.ts";
import { RemoteAuthError, RemoteFullError } from "../../src/errors.ts";

Deno.test("errorFromReply() tells Redis's errors apart by their code, never by their text", () => {
  assert.ok(
    errorFromReply("OOM command not allowed when used memory > 'maxmemory'.") instanceof
      RemoteFullError,
  );
  for (
    const code of [
      "WRONGPASS invalid username-password pair",
      "NOAUTH Authentication required.",
      "NOPERM this user has no permissions to run the 'getex' command",
    ]
  ) {
    assert.ok(errorFromReply(code) instanceof RemoteAuthError, code);
  }
  const other = errorFromReply("ERR unknown command 'FOO'");
  assert.ok(other instanceof RedisReplyError);
  assert.equal(other.code, "ERR");
  // A message that merely mentions memory is not a full Redis.
  assert.ok(!(errorFromReply("ERR maxmemory is a config parameter") instanceof RemoteFullError));
  assert.equal(
    errorFromReply("READONLY You can't write against a read only replica.").constructor,
    RedisReplyError,
  );
});

Deno.test("ioredis is loaded by the very specifier deno.json names", async () => {
  const { IOREDIS_SPECIFIER } = await import("../../src/redis/ioredis_transport.ts");
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  assert.equal(IOREDIS_SPECIFIER, config.imports.ioredis);
});
