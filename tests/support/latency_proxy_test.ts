import assert from "node:assert/strict";
import { startLatencyProxy } from "./latency_proxy.ts";
import { startRedis } from "./redis_server.ts";
import { tempDir } from "./tools.ts";

Deno.test("startLatencyProxy() adds its delay once per round trip and keeps pipelining", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({ dir: dir.path });
  await using proxy = startLatencyProxy(redis.port, 20);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  conn.setNoDelay(true);
  const roundTrip = async (commands: number) => {
    const started = performance.now();
    await conn.write(new TextEncoder().encode("PING\r\n".repeat(commands)));
    let received = "";
    const buffer = new Uint8Array(65536);
    while (received.split("+PONG").length - 1 < commands) {
      const count = await conn.read(buffer);
      if (count === null) throw new Error("closed");
      received += new TextDecoder().decode(buffer.subarray(0, count));
    }
    return performance.now() - started;
  };
  const single = await roundTrip(1);
  const pipelined = await roundTrip(100);
  conn.close();
  assert.ok(single >= 19 && single < 60, `one round trip took ${single} ms`);
  assert.ok(pipelined < 60, `a pipeline of 100 took ${pipelined} ms: one round trip, not 100`);
});
