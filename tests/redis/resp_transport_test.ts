/**
 * The standalone transport against a real `redis-server`: commands sent together share
 * one connection of the demand lane, and leave the lane's other connection to the next get.
 */
import assert from "node:assert/strict";
import { openTransport } from "../../src/redis/connect.ts";
import { startRedis } from "../support/redis_server.ts";
import { tempDir } from "../support/tools.ts";

const decoder = new TextDecoder();

Deno.test("RespTransport sends commands together on one demand connection, leaving the other free", async () => {
  await using dir = await tempDir();
  await using redis = await startRedis({ dir: dir.path });
  const transport = openTransport({ urls: [`127.0.0.1:${redis.port}`] });
  try {
    assert.equal(await transport.ready(), true);
    const id = (reply: unknown) => String(reply);
    // Two lone sends at once take the lane's two connections.
    const [first, second] = await Promise.all([
      transport.send(["CLIENT", "ID"]),
      transport.send(["CLIENT", "ID"]),
    ]);
    assert.notEqual(id(first), id(second), "the demand lane has two connections");
    // Sent together, a read and a claim travel on one; a get sent meanwhile takes the other.
    const [together, alongside] = await Promise.all([
      transport.sendTogether([["CLIENT", "ID"], ["CLIENT", "ID"], ["ECHO", "third"]], "demand"),
      transport.send(["CLIENT", "ID"]),
    ]);
    assert.equal(id(together[0]), id(together[1]), "one connection for the commands together");
    assert.equal(decoder.decode(together[2] as Uint8Array), "third", "replies in order");
    assert.notEqual(id(alongside), id(together[0]), "the other connection stays free for a get");
  } finally {
    await transport.close();
  }
});
