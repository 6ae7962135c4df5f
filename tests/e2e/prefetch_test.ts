/**
 * Build manifests and prefetch, end to end with the real go command and a real Redis:
 * a fresh store served from prefetched entries, a stale manifest after a change, and a
 * damaged manifest.
 */
import assert from "node:assert/strict";
import {
  compiledPackages,
  freshGoCache,
  type GoWorkspace,
  goWorkspace,
  runGo,
} from "../support/go.ts";
import { runCommand } from "../support/process.ts";
import {
  prefetchStepCounts,
  programArgv,
  redisGocacheprog,
  runPrefetchStep,
} from "../support/program.ts";
import { type RedisServer, startRedis } from "../support/redis_server.ts";

const SCOPE = ["--manifest-scope", "ref:main", "--build-type", "e2e"];

function program(gocache: string, redis: RedisServer): string {
  return redisGocacheprog(gocache, redis.port, ["--manifest", ...SCOPE]);
}

/**
 * `go build -x ./...` of the workspace through the program on `gocache`, which must
 * succeed; returns its stderr (the commands run, and the program's metrics).
 */
async function build(work: GoWorkspace, redis: RedisServer, gocache: string): Promise<string> {
  const result = await runGo(["build", "-x", "./..."], {
    cwd: work.module,
    gocache,
    gocacheprog: program(gocache, redis),
  });
  assert.equal(result.code, 0, result.stderr);
  return result.stderr;
}

/** The build that writes the manifest the tests then read. */
async function recordingBuild(work: GoWorkspace, redis: RedisServer): Promise<void> {
  await build(work, redis, work.gocache);
}

function counter(stderr: string, pattern: RegExp): number {
  return Number(pattern.exec(stderr)?.[1] ?? NaN);
}

/** The prefetch step of this file's scope, with the README's permissions. */
function prefetchStep(fresh: string, port: number) {
  return runPrefetchStep(fresh, port, SCOPE);
}

// One recording build serves every step: each step builds on caches of its own, and the
// steps that change what they share (the manifest, the module, Redis) come last.
Deno.test("build manifests end to end: prefetch in the build and as a step, damaged and stale manifests", async (t) => {
  await using work = await goWorkspace();
  await using redis = await startRedis({ dir: work.dir });
  await recordingBuild(work, redis);

  await t.step(
    "a fresh store is served from entries prefetched by the last build's manifest",
    async () => {
      assert.ok(
        (await redis.cli("--scan", "--pattern", "gocacheprog:{m:*")).length > 0,
        "a manifest was written",
      );
      const second = await build(work, redis, await freshGoCache(work.dir, "fresh"));
      assert.deepEqual(compiledPackages(second), []);
      const gets = counter(second, /gocacheprog: (\d+) gets/);
      const prefetched = counter(second, /prefetched (\d+) of/);
      const demand = counter(second, /demand round trips (\d+)/);
      assert.ok(prefetched > 0, second);
      assert.ok(demand <= gets * 0.1, `${demand} demand round trips for ${gets} gets`);
    },
  );

  await t.step(
    "the prefetch command fills a fresh store, and every hit of the build after it is local",
    async () => {
      const fresh = await freshGoCache(work.dir, "fresh-step");
      const step = await prefetchStep(fresh, redis.port);
      assert.equal(step.code, 0, step.stderr);
      const counts = prefetchStepCounts(step.stdout);
      assert.ok(
        counts !== undefined && counts.planned > 0 && counts.fetched === counts.planned,
        step.stdout,
      );
      const after = await build(work, redis, fresh);
      assert.deepEqual(compiledPackages(after), []);
      assert.equal(counter(after, /remote: (\d+) hits/), 0, after);
      assert.equal(
        counter(after, /prefetched \d+ of (\d+)/),
        0,
        "the build found nothing of the manifest missing: the step had fetched it all",
      );
      assert.ok(counter(after, /gocacheprog: \d+ gets \((\d+) hits/) > 0, after);
      const again = await prefetchStep(fresh, redis.port);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /nothing to prefetch/);
    },
  );

  await t.step("a damaged manifest is ignored with one warning", async () => {
    for (const key of (await redis.cli("--scan", "--pattern", "gocacheprog:{m:*")).split("\n")) {
      await redis.cli("SET", key, "not a manifest");
    }
    // This build writes a manifest again, for the steps after it.
    const damaged = await build(work, redis, await freshGoCache(work.dir, "fresh-damaged"));
    assert.deepEqual(compiledPackages(damaged), [], "the demand path still serves everything");
    const warnings = damaged.split("\n").filter((line) => line.startsWith("gocacheprog: warning:"));
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0]!, /damaged build manifest/);
  });

  await t.step(
    "a stale manifest after a change to a leaf and a core package: the build succeeds, unused prefetch is reported",
    async () => {
      for (const [file, marker] of [["mathx/mathx.go", "leaf"], ["lib/lib.go", "core"]]) {
        await Deno.writeTextFile(
          `${work.module}/${file}`,
          `${await Deno.readTextFile(`${work.module}/${file}`)}\n// ${marker} change\n`,
        );
        const stale = await build(work, redis, await freshGoCache(work.dir, `fresh-${marker}`));
        assert.ok(
          compiledPackages(stale).length > 0,
          `${marker}: the changed package compiles again`,
        );
        assert.match(stale, /unused [\d.]+ (B|KiB|MiB)/, stale);
      }
    },
  );

  await t.step(
    "a prefetch step that cannot tell the toolchain says so, prefetches nothing, and exits 0",
    async () => {
      const fresh = await freshGoCache(work.dir, "fresh-unknown");
      const argv = programArgv({
        dir: fresh,
        passDir: false,
        redisHosts: ["127.0.0.1"],
        args: ["prefetch", "--redis-url", `127.0.0.1:${redis.port}`, ...SCOPE],
      });
      const blind = await runCommand(argv, { env: { GOCACHE: fresh } });
      assert.equal(blind.code, 0);
      assert.match(blind.stderr, /the Go toolchain the build uses is unknown .*--allow-run=go/);
      assert.equal(blind.stdout, "");
    },
  );

  await t.step(
    "a prefetch step never fails a job: with Redis down it says so, and exits 0",
    async () => {
      await redis.kill();
      const down = await prefetchStep(await freshGoCache(work.dir, "fresh-down"), redis.port);
      assert.equal(down.code, 0);
      assert.match(down.stderr, /warning: Redis .* is unavailable \(.*\); nothing is prefetched$/m);
      assert.match(down.stdout, /nothing prefetched: Redis is unavailable/);
    },
  );
});
