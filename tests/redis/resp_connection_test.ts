/** Our RESP connection's progress deadlines, against real `redis-server` processes. */
import assert from "node:assert/strict";
import { RespConnection } from "../../src/redis/resp_connection.ts";
import { DeadlineError } from "../../src/errors.ts";
import { startRedis } from "../support/redis_server.ts";
import { startLatencyProxy } from "../support/latency_proxy.ts";
import { randomBytes } from "../support/stores.ts";
import { tempDir } from "../support/tools.ts";

const deadline = { stallMillis: 300, floorBytesPerSecond: 1_000_000 };

Deno.test("RespConnection fails a command to a frozen server within its stall deadline", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const connection = await RespConnection.open({ host: "127.0.0.1", port: redis.port, deadline });
  redis.freeze();
  try {
    const started = performance.now();
    await assert.rejects(connection.command(["GET", "k"]), DeadlineError);
    const took = performance.now() - started;
    assert.ok(took >= 290 && took < 900, `failed after ${took} ms`);
    assert.ok(connection.closed, "a connection that missed a deadline is closed");
  } finally {
    redis.thaw();
  }
});

Deno.test("RespConnection gives big values on a slow link the time they need", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  await using proxy = startLatencyProxy(redis.port, 2, { bytesPerSecond: 8_000_000 });
  const connection = await RespConnection.open({ host: "127.0.0.1", port: proxy.port, deadline });
  const value = randomBytes(6 << 20);
  const started = performance.now();
  assert.deepEqual(await connection.command(["SET", "big", value]), new TextEncoder().encode("OK"));
  const read = await connection.command(["GET", "big"]);
  const took = performance.now() - started;
  assert.ok(took > 1000, `the link carried 12 MiB in ${took} ms: far beyond the stall deadline`);
  assert.deepEqual(read, value);
  connection.close();
});
