/** The health file: what the go processes of one job know together of their remote. */
import assert from "node:assert/strict";
import { DOWN_MEMORY_MILLIS, HEALTH_FILE, HealthFile } from "../../src/local/health_file.ts";
import { tempDir } from "../support/tools.ts";

Deno.test("HealthFile remembers a remote found down, for that remote only and for a while", async () => {
  await using dir = await tempDir();
  let now = 1_000_000;
  const clock = () => now;
  const redis = new HealthFile(dir.path, "cache:6379", clock);
  assert.equal(redis.knownDown(), false, "nothing known at first");
  redis.markDown("GETEX timed out after 1000 ms");
  assert.equal(
    new HealthFile(dir.path, "cache:6379", clock).knownDown(),
    true,
    "another process knows",
  );
  assert.equal(
    new HealthFile(dir.path, "other:6379", clock).knownDown(),
    false,
    "another remote does not",
  );
  now += DOWN_MEMORY_MILLIS + 1;
  assert.equal(redis.knownDown(), false, "an old record is not trusted");
  redis.markUp();
  assert.deepEqual([...Deno.readDirSync(dir.path)], [], "cleared");
});

Deno.test("HealthFile takes a damaged file for nothing known, and never fails", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/${HEALTH_FILE}`, "{not json");
  const health = new HealthFile(dir.path, "cache:6379");
  assert.equal(health.knownDown(), false);
  health.markUp(); // not ours: left alone
  assert.ok(Deno.statSync(`${dir.path}/${HEALTH_FILE}`).isFile);
  new HealthFile(`${dir.path}/missing`, "cache:6379").markDown("refused"); // nowhere to write
});
