/** `gocacheprog doctor`: each check, its fix, and the verdict in the exit status. */
import assert from "node:assert/strict";
import { runDoctor } from "../../../src/cli/commands/doctor.ts";
import { missingPermissionFlags, permissionNeeds } from "../../../src/cli/permissions.ts";
import { commandContext } from "../../support/commands.ts";
import { runCommand } from "../../support/process.ts";
import { programArgv } from "../../support/program.ts";
import { startRedis } from "../../support/redis_server.ts";
import { freePort, tempDir } from "../../support/tools.ts";

Deno.test("doctor says all is well, or names each problem and its fix, in its exit status", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({
    dir: work.path,
    args: ["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"],
  });
  const healthy = commandContext([
    "doctor",
    "--dir",
    work.path,
    "--redis-url",
    `127.0.0.1:${redis.port}`,
  ]);
  assert.equal(await runDoctor(healthy.context), 0, healthy.printed.join("\n"));
  const out = healthy.printed.join("\n");
  assert.match(out, /ok +go command: go1\.26\.8/);
  assert.match(out, /ok +redis round trip: [\d.]+ ms/);
  assert.match(out, /ok +redis memory: .* used of 64\.0 MiB, policy allkeys-lru, 0 keys evicted/);
  assert.match(out, /ok +deno permissions: everything serving needs is granted/);
  assert.match(out, /all is well$/);
  const down = commandContext([
    "doctor",
    "--dir",
    work.path,
    "--redis-url",
    `127.0.0.1:${freePort()}`,
  ]);
  assert.equal(await runDoctor(down.context), 1);
  assert.match(
    down.printed.join("\n"),
    /PROBLEM redis 127\.0\.0\.1:\d+: .*(ECONNREFUSED|Connection refused)/,
  );
  assert.match(down.printed.join("\n"), /fix: check that Redis runs at 127\.0\.0\.1:\d+/);
});

Deno.test("doctor warns of a Redis that would refuse uploads when full, or grow without a limit", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path }); // noeviction and no maxmemory: the defaults
  const { context, printed } = commandContext([
    "doctor",
    "--dir",
    work.path,
    "--redis-url",
    `127.0.0.1:${redis.port}`,
  ]);
  assert.equal(await runDoctor(context), 1, printed.join("\n"));
  assert.match(
    printed.join("\n"),
    /PROBLEM redis memory: .* policy noeviction, .*refuse every upload/,
  );
  assert.match(printed.join("\n"), /fix: set maxmemory .* allkeys-lru/);
});

Deno.test("doctor skips the go check, rather than failing it, when running go is not permitted", async () => {
  await using work = await tempDir();
  const { context, printed } = commandContext(["doctor", "--dir", work.path], {
    query: (descriptor) => descriptor.name !== "run",
  });
  assert.equal(await runDoctor(context), 0, printed.join("\n"));
  assert.match(printed[0]!, /^ok +go command: not checked \(.*--allow-run=go/);
  const old = commandContext(["doctor", "--dir", work.path], {
    goEnv: () => Promise.resolve({ GOVERSION: "go1.22.0" }),
  });
  assert.equal(await runDoctor(old.context), 1);
  assert.match(old.printed.join("\n"), /PROBLEM go command: go1\.22\.0\n +fix: install Go 1\.24/);
});

Deno.test("doctor reports the permissions serving would miss, exactly as serving asks for them", async () => {
  await using work = await tempDir();
  const elsewhere = `${work.path}/elsewhere/metrics.jsonl`;
  const cache = `${work.path}/cache`;
  const granted = (descriptor: Deno.PermissionDescriptor) =>
    "path" in descriptor && descriptor.path === cache;
  const args = ["--dir", cache, "--metrics-file", elsewhere];
  const { context, printed } = commandContext(["doctor", ...args], { query: granted });
  assert.equal(await runDoctor(context), 1);
  const serving = missingPermissionFlags(permissionNeeds(context.config, cache, "serve"), granted);
  assert.deepEqual(serving, [`--allow-write=${elsewhere}`]);
  assert.match(
    printed.join("\n"),
    new RegExp(`PROBLEM deno permissions: serving would need ${serving.join(" ")}\\n`),
  );
});

Deno.test("doctor and serving, run as installed, name the same missing permission", async () => {
  await using work = await tempDir();
  const elsewhere = `${work.path}/elsewhere.jsonl`;
  const argv = programArgv({ dir: `${work.path}/cache`, args: ["--metrics-file", elsewhere] });
  const serving = await runCommand(argv);
  assert.equal(serving.code, 2);
  assert.match(serving.stderr, new RegExp(`run deno with --allow-write=${elsewhere} `));
  // The same command line, with the command first.
  argv.splice(argv.indexOf("--dir"), 0, "doctor");
  const checked = await runCommand(argv);
  assert.equal(checked.code, 1, checked.stdout + checked.stderr);
  assert.match(checked.stdout, new RegExp(`serving would need --allow-write=${elsewhere}\\n`));
});
