/**
 * Least privilege: with exactly the README's flags the program works (the end-to-end
 * tests build through it that way); anything outside them is refused before the
 * handshake, with the flag to add. (An installed command runs a real build in the README's
 * Install recipe, tested as written in `tests/e2e/readme_recipes_test.ts`.)
 */
import assert from "node:assert/strict";
import { missingPermissionFlags, permissionNeeds } from "../../src/cli/permissions.ts";
import { parseConfig } from "../../src/cli/config.ts";
import { runCommand } from "../support/process.ts";
import { programArgv } from "../support/program.ts";
import { tempDir } from "../support/tools.ts";

Deno.test("permissionNeeds() and missingPermissionFlags() name every missing flag, with host:port for a standalone server", () => {
  const granted = new Set(["read:/c"]);
  const query = (descriptor: Deno.PermissionDescriptor) =>
    granted.has(`${descriptor.name}:${"path" in descriptor ? descriptor.path : ""}`);
  const config = parseConfig([
    "--dir",
    "/c",
    "--redis-url",
    "cache:6379",
    "--redis-password-file",
    "/run/secrets/redis",
    "--metrics-file",
    "/m.jsonl",
  ], () => undefined);
  assert.deepEqual(missingPermissionFlags(permissionNeeds(config, "/c"), query), [
    "--allow-read=/run/secrets/redis",
    "--allow-write=/c,/m.jsonl",
    "--allow-net=cache:6379",
  ]);
  const cluster = parseConfig(["--redis-url", "cache:7000,10.0.0.2:7001"], () => undefined);
  assert.deepEqual(missingPermissionFlags(permissionNeeds(cluster, "/c"), query), [
    "--allow-write=/c",
    "--allow-net=cache,10.0.0.2",
    "--allow-env",
  ], "a Cluster's nodes are on other ports: hosts alone, and the whole environment");
  const stats = parseConfig(["stats", "--metrics-file", "/m.jsonl"], () => undefined);
  assert.deepEqual(permissionNeeds(stats, "/c").write, ["/c"], "stats only reads the file");
  assert.deepEqual(permissionNeeds(stats, "/c").read, ["/c", "/m.jsonl"]);
  assert.deepEqual(missingPermissionFlags(permissionNeeds(config, "/c"), () => true), []);
});

Deno.test("a cache directory outside the granted one is refused before the handshake", async () => {
  await using allowed = await tempDir();
  await using other = await tempDir();
  const argv = programArgv({ dir: allowed.path, passDir: false, args: ["--dir", other.path] });
  const result = await runCommand(argv);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "", "no handshake");
  assert.match(result.stderr, new RegExp(`--allow-read=${other.path} --allow-write=${other.path}`));
});

Deno.test("a Redis host outside --allow-net, or a Cluster without the whole environment, is refused with the flag to add", async () => {
  await using dir = await tempDir();
  const otherHost = programArgv({
    dir: dir.path,
    redisHosts: ["127.0.0.1"],
    args: ["--redis-url", "127.0.0.2:6379"],
  });
  const denied = await runCommand(otherHost);
  assert.equal(denied.code, 2);
  assert.match(denied.stderr, /--allow-net=127\.0\.0\.2:6379 /);
  // A standalone server needs only our variables and the CI ones (every end-to-end test
  // runs so); a Cluster loads ioredis, which reads the whole environment.
  const cluster = programArgv({
    dir: dir.path,
    redisHosts: ["127.0.0.1"],
    args: ["--redis-url", "127.0.0.1:7000,127.0.0.1:7001"],
  });
  const result = await runCommand(cluster);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /missing Deno permissions: run deno with --allow-env /);
});

Deno.test("a password file that may not be read is refused with the flag to add", async () => {
  await using dir = await tempDir();
  const secret = `${dir.path}/secret-elsewhere`;
  await Deno.writeTextFile(secret, "hunter2\n");
  const argv = programArgv({
    dir: `${dir.path}/cache`,
    redisHosts: ["127.0.0.1"],
    args: ["--redis-url", "127.0.0.1:6379", "--redis-password-file", secret],
  });
  const result = await runCommand(argv);
  assert.equal(result.code, 2);
  assert.match(result.stderr, new RegExp(`--allow-read=${secret}`));
  assert.ok(!result.stderr.includes("hunter2"));
});
