import assert from "node:assert/strict";
import { parseConfig } from "../../src/cli/config.ts";
import { UsageError } from "../../src/errors.ts";

const noEnv = () => undefined;
const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("parseConfig() takes long flags and the seed's single-dash spellings", () => {
  for (const args of [["--dir", "/c"], ["--dir=/c"], ["-dir", "/c"], ["-dir=/c"]]) {
    assert.equal(parseConfig(args, noEnv).dir, "/c", args.join(" "));
  }
  const config = parseConfig(["-log-metrics", "--log-req", "-log-resp=true"], noEnv);
  assert.equal(config.logMetrics, true);
  assert.equal(config.logRequests, true);
  assert.equal(config.logResponses, true);
  assert.equal(parseConfig(["--log-metrics=false"], noEnv).logMetrics, false);
});

Deno.test("parseConfig() falls back to environment variables, flags first", () => {
  assert.equal(parseConfig([], envOf({ GOCACHE: "/g" })).dir, "/g");
  assert.equal(parseConfig([], envOf({ GOCACHE: "/g", GOCACHEPROG_DIR: "/p" })).dir, "/p");
  assert.equal(parseConfig(["--dir", "/f"], envOf({ GOCACHEPROG_DIR: "/p" })).dir, "/f");
  assert.equal(parseConfig([], envOf({ GOCACHEPROG_LOG_METRICS: "1" })).logMetrics, true);
  assert.equal(
    parseConfig(["--log-metrics=false"], envOf({ GOCACHEPROG_LOG_METRICS: "1" })).logMetrics,
    false,
  );
});

Deno.test("parseConfig() rejects what it does not understand, saying what", () => {
  assert.throws(() => parseConfig(["--bogus"], noEnv), /Unknown flag "--bogus"/);
  assert.throws(() => parseConfig(["--dir"], noEnv), /--dir needs a value/);
  assert.throws(() => parseConfig(["--dir="], noEnv), /non-empty value/);
  assert.throws(() => parseConfig(["build"], noEnv), /Unknown command "build"/);
  assert.throws(() => parseConfig(["trim", "extra"], noEnv), /Unexpected argument number 2/);
  assert.throws(
    () => parseConfig(["--log-metrics=maybe"], noEnv),
    /--log-metrics takes true or false/,
  );
  assert.throws(() => parseConfig([], envOf({ GOCACHEPROG_LOG_REQ: "x" })), /GOCACHEPROG_LOG_REQ/);
});

Deno.test("parseConfig() reads the Redis flags, the seed's spellings and their environment variables", () => {
  const config = parseConfig(
    [
      "-r-urls",
      "a:1,b:2",
      "--redis-url",
      "c:3",
      "-r-usr",
      "u",
      "-r-prefix",
      "team",
      "--redis-ttl",
      "2d",
    ],
    noEnv,
  );
  assert.deepEqual(config.redisUrls, ["a:1", "b:2", "c:3"]);
  assert.equal(config.redisUser, "u");
  assert.equal(config.redisPrefix, "team");
  assert.equal(config.redisTtlMillis, 2 * 86_400_000);
  assert.equal(config.redisTimeoutMillis, 1000);
  assert.equal(config.uploadWaitMillis, 5000);
  assert.equal(config.compress, "none");
  const fromEnv = parseConfig(
    [],
    envOf({
      GOCACHEPROG_REDIS_URL: "redis://x:6379",
      GOCACHEPROG_REDIS_PASSWORD: "p",
      GOCACHEPROG_READ_ONLY: "true",
      GOCACHEPROG_UPLOAD_WAIT: "250ms",
    }),
  );
  assert.deepEqual(fromEnv.redisUrls, ["redis://x:6379"]);
  assert.equal(fromEnv.redisPassword, "p");
  assert.equal(fromEnv.redisPasswordOnCommandLine, false);
  assert.equal(fromEnv.readOnly, true);
  assert.equal(fromEnv.uploadWaitMillis, 250);
  assert.equal(parseConfig(["-r-pwd", "p"], noEnv).redisPasswordOnCommandLine, true);
});

Deno.test("parseConfig() rejects bad durations and compression names", () => {
  assert.throws(() => parseConfig(["--redis-ttl", "soon"], noEnv), /--redis-ttl takes a duration/);
  assert.throws(() => parseConfig(["--redis-ttl", "10ms"], noEnv), /at least 1s/);
  assert.throws(() => parseConfig(["--compress", "lz4"], noEnv), /--compress takes none or zstd/);
  assert.equal(parseConfig(["--compress=zstd"], noEnv).compress, "zstd");
});

Deno.test("parseConfig() reads commands, trimming and metrics settings", () => {
  assert.equal(parseConfig([], noEnv).command, "serve");
  const trim = parseConfig(["trim", "--max-size", "10G", "--trim-age", "2d"], noEnv);
  assert.equal(trim.command, "trim");
  assert.equal(trim.maxSizeBytes, 10 * 1024 ** 3);
  assert.equal(trim.trimAgeMillis, 2 * 86_400_000);
  assert.equal(parseConfig([], noEnv).trimAgeMillis, 5 * 86_400_000);
  assert.equal(parseConfig(["--max-size=512MiB"], noEnv).maxSizeBytes, 512 * 1024 ** 2);
  assert.equal(
    parseConfig([], envOf({ GOCACHEPROG_METRICS_FILE: "/m.jsonl" })).metricsFile,
    "/m.jsonl",
  );
  assert.equal(parseConfig(["clear", "--remote"], noEnv).clearRemote, true);
  assert.throws(() => parseConfig(["clear"], noEnv), /exactly one of --local and --remote/);
  assert.throws(() => parseConfig(["prefetch"], noEnv), /prefetch needs Redis/);
  assert.equal(
    parseConfig(["prefetch"], envOf({ GOCACHEPROG_REDIS_URL: "127.0.0.1:6379" })).command,
    "prefetch",
  );
  assert.throws(() => parseConfig(["--max-size", "lots"], noEnv), /size such as/);
});

Deno.test("parseConfig() never repeats a value in its errors: a mistyped flag may carry a password", () => {
  const secret = "hunter2-Zm9v/YmFy+c2VjcmV0";
  for (
    const args of [
      [`--redis-passwd=${secret}`],
      [`-r-pass=${secret}`],
      ["--redis-ttl", secret],
      [`--compress=${secret}`],
      [`--log-metrics=${secret}`],
      ["trim", secret],
      [secret],
    ]
  ) {
    assert.throws(
      () => parseConfig(args, noEnv),
      (error: Error) => error instanceof UsageError && !error.message.includes("hunter2"),
      args.join(" "),
    );
  }
});

Deno.test("parseConfig() gives every setting its default, defined where it is used", () => {
  const config = parseConfig([], noEnv);
  assert.equal(config.redisSentinelName, "mymaster");
  assert.equal(config.redisPrefix, "");
  assert.equal(config.prefetchMaxBytes, 4 * 1024 ** 3);
  assert.equal(config.speculate, true);
  assert.equal(config.readOnly, false);
  assert.deepEqual(config.redisUrls, []);
  assert.equal(config.maxSizeBytes, undefined);
});

Deno.test("parseConfig() takes the command after flags, reads help as --help, and names an unknown command", () => {
  // An installed command's shim puts its own flags first.
  assert.equal(parseConfig(["--dir", "/c", "stats"], noEnv).command, "stats");
  assert.equal(parseConfig(["help"], noEnv).help, true);
  assert.throws(
    () => parseConfig(["Stats"], noEnv),
    (error: Error) =>
      error instanceof UsageError &&
      /Unknown command "Stats" \(did you mean "stats"\?\): the commands are serve, prefetch, stats/
        .test(error.message),
  );
  assert.throws(() => parseConfig(["stats", "trim"], noEnv), /Unexpected argument number 2/);
});
