/**
 * An offline runner: an empty `DENO_DIR` and an npm registry that cannot be reached. A
 * local-only or standalone-Redis session never fetches, nor tries to fetch, an npm
 * package; a Cluster, whose ioredis is not installed there, is one warning and a build
 * from local disk.
 */
import assert from "node:assert/strict";
import { assertBuilt, FIXTURE_PACKAGES, warnings } from "../support/builds.ts";
import { compiledPackages, goWorkspace, runGo } from "../support/go.ts";
import { BUNDLE_ENTRY, gocacheprogValue, programArgv } from "../support/program.ts";
import { startRedis } from "../support/redis_server.ts";
import { freePort, REPO_ROOT, requireTool } from "../support/tools.ts";
import { runCommand } from "../support/process.ts";

/** Deno's own caches empty, and npm out of reach. */
function offline(denoDir: string): Record<string, string> {
  return { DENO_DIR: denoDir, NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/" };
}

Deno.test("an offline runner with an empty DENO_DIR: local and standalone Redis sessions fetch nothing", async () => {
  await using work = await goWorkspace();
  const { dir, module, gocache } = work;
  await using redis = await startRedis({ dir });
  // Without --quiet: any download Deno attempted would print a line.
  const argv = (args: string[], redisHosts?: string[]) =>
    programArgv({
      dir: gocache,
      passDir: false,
      ...(redisHosts === undefined ? {} : { redisHosts }),
      args,
    }).filter((arg) => arg !== "--quiet");
  const sessions = [
    { what: "local only", argv: argv(["--log-metrics"]) },
    {
      what: "standalone Redis",
      argv: argv(["--redis-url", `127.0.0.1:${redis.port}`, "--log-metrics"], ["127.0.0.1"]),
    },
  ];
  for (const [i, { what, argv }] of sessions.entries()) {
    const result = await runGo(["build", "./..."], {
      cwd: module,
      gocache,
      gocacheprog: gocacheprogValue(argv),
      env: offline(`${dir}/deno-dir-${i}`),
    });
    assertBuilt(result, what);
    assert.doesNotMatch(result.stderr, /Download|npm/, `${what}:\n${result.stderr}`);
    assert.deepEqual(warnings(result.stderr), [], what);
  }
});

Deno.test("an offline runner without ioredis: a Redis Cluster is one warning line, and a build from local disk", async () => {
  await using work = await goWorkspace();
  const { dir, module, gocache } = work;
  const gocacheprog = gocacheprogValue(programArgv({
    dir: gocache,
    passDir: false,
    redisHosts: ["127.0.0.1"],
    allEnv: true,
    args: ["--redis-url", `127.0.0.1:${freePort()},127.0.0.1:${freePort()}`],
  }));
  const result = await runGo(["build", "-x", "./..."], {
    cwd: module,
    gocache,
    gocacheprog,
    env: offline(`${dir}/deno-dir`),
  });
  assertBuilt(result, "offline build with a Cluster URL");
  assert.deepEqual(compiledPackages(result.stderr), FIXTURE_PACKAGES);
  assert.equal(warnings(result.stderr).length, 1, result.stderr);
  assert.match(
    warnings(result.stderr)[0]!,
    /ioredis, which a Redis Cluster or Sentinel needs, is not installed/,
  );
  const denoLines = result.stderr.split("\n").filter((line) =>
    !line.startsWith("gocacheprog:") && /Download|Failed caching|npm/.test(line)
  );
  assert.deepEqual(denoLines, [], "Deno says nothing of its own");
});

Deno.test("installed where npm could be reached, a Redis Cluster loads ioredis offline: its warning is about the Cluster, not npm", async () => {
  const unshare = requireTool("unshare"); // a network namespace of its own: no network at all
  await using work = await goWorkspace();
  const { dir, module, gocache } = work;
  const denoDir = `${dir}/deno-dir`;
  // The install, online, as the README's: the command, then ioredis for a Cluster.
  const install = await runCommand([
    Deno.execPath(),
    "install",
    "-g",
    "--quiet",
    "--root",
    `${dir}/install`,
    "--no-prompt",
    `--config=${REPO_ROOT}/deno.json`,
    "-n",
    "gocacheprog",
    `--allow-read=${gocache}`,
    `--allow-write=${gocache}`,
    "--allow-net=127.0.0.1",
    "--allow-env",
    BUNDLE_ENTRY, // as the README installs it
  ], { env: { DENO_DIR: denoDir } });
  assert.equal(install.code, 0, install.stderr);
  // As the README's install does next: the bundle names ioredis by a computed specifier
  // only, so its package is cached apart.
  const cache = await runCommand([
    Deno.execPath(),
    "cache",
    "--quiet",
    "--no-lock",
    `--config=${REPO_ROOT}/deno.json`,
    `${REPO_ROOT}/src/redis/ioredis_deps.ts`,
  ], { env: { DENO_DIR: denoDir } });
  assert.equal(cache.code, 0, cache.stderr);
  const result = await runCommand([
    unshare,
    "-n",
    requireTool("go"),
    "build",
    "./...",
  ], {
    cwd: module,
    env: {
      DENO_DIR: denoDir,
      GOCACHE: gocache,
      GOFLAGS: "",
      GOTOOLCHAIN: "local",
      GOPROXY: "off",
      GOCACHEPROG: `${dir}/install/bin/gocacheprog --redis-url 127.0.0.1:7001,127.0.0.1:7002`,
    },
  });
  assertBuilt(result, "an offline build with a Cluster URL");
  assert.equal(warnings(result.stderr).length, 1, result.stderr);
  assert.match(
    warnings(result.stderr)[0]!,
    /Redis cluster 127\.0\.0\.1:7001,127\.0\.0\.1:7002 is unavailable/,
  );
  assert.doesNotMatch(result.stderr, /not installed|npm/);
});
