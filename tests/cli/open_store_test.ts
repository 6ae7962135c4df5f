import assert from "node:assert/strict";
import { manifestOptions } from "../../src/cli/open_store.ts";
import { parseConfig } from "../../src/cli/config.ts";

const noEnv = () => undefined;

Deno.test("manifestOptions() writes manifests in CI, with --manifest, or with an explicit scope or build type", () => {
  const config = (...args: string[]) => parseConfig(args, noEnv);
  assert.equal(manifestOptions(config(), true, noEnv).write, false, "outside CI, nothing asked");
  assert.equal(manifestOptions(config("--manifest"), true, noEnv).write, true);
  assert.equal(manifestOptions(config("--manifest-scope", "ref:main"), true, noEnv).write, true);
  assert.equal(manifestOptions(config("--build-type", "unit"), true, noEnv).write, true);
  const gitlab = (name: string) => ({ GITLAB_CI: "true", CI_JOB_NAME: "build" })[name];
  assert.equal(manifestOptions(config(), true, gitlab).write, true);
  assert.equal(
    manifestOptions(config("--manifest"), false, gitlab).write,
    false,
    "a prefetch step",
  );
  assert.equal(
    manifestOptions(config("--build-type", "unit"), true, noEnv).scopes.buildType,
    "unit",
  );
});
