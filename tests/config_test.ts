import assert from "node:assert/strict";
import { FLAGS, parseConfig, resolveCacheDir, usage } from "../src/config.ts";
import { VERSION } from "../src/version.ts";

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
  assert.throws(() => parseConfig(["--dir"], noEnv), /needs a value/);
  assert.throws(() => parseConfig(["--dir="], noEnv), /non-empty value/);
  assert.throws(() => parseConfig(["build"], noEnv), /Unexpected argument "build"/);
  assert.throws(() => parseConfig(["--log-metrics=maybe"], noEnv), /true or false, not "maybe"/);
  assert.throws(() => parseConfig([], envOf({ GOCACHEPROG_LOG_REQ: "x" })), /GOCACHEPROG_LOG_REQ/);
});

Deno.test("resolveCacheDir() makes the directory absolute and refuses none or off", () => {
  assert.equal(resolveCacheDir({ ...parseConfig([], noEnv), dir: "/a/b/" }, () => "/cwd"), "/a/b");
  assert.equal(
    resolveCacheDir({ ...parseConfig([], noEnv), dir: "rel" }, () => "/cwd"),
    "/cwd/rel",
  );
  assert.throws(() => resolveCacheDir(parseConfig([], noEnv), () => "/"), /--dir DIR/);
  assert.throws(
    () => resolveCacheDir({ ...parseConfig([], noEnv), dir: "off" }, () => "/"),
    /"off"/,
  );
});

Deno.test("usage() lists every flag and its environment variable", () => {
  const text = usage(VERSION);
  for (const flag of FLAGS) {
    assert.ok(text.includes(`--${flag.name}`), flag.name);
    if (flag.env !== undefined) assert.ok(text.includes(`$${flag.env}`), flag.env);
  }
});

Deno.test("VERSION matches deno.json", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(VERSION, manifest.version);
});
