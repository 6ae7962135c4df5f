import assert from "node:assert/strict";
import { REDIS_ENV_PERMISSION } from "../../src/cli/permissions.ts";
import { CI_ENV_VARIABLES, GO_ENV_VARIABLES } from "../../src/tiered/build_env.ts";
import { deriveScopes, ManifestRecorder, selectPrefetch } from "../../src/tiered/manifest.ts";
import {
  decodeManifest,
  encodeManifestHeader,
  encodeManifestRecords,
  type Manifest,
  MANIFEST_HEADER_BYTES,
} from "../../src/manifest_format.ts";
import { id } from "../support/vectors.ts";
const manifestOf = (...ids: number[]): Manifest => ({
  jobHash: "0".repeat(32),
  createdMillis: 1,
  records: ids.map((n) => ({ actionId: id(n), size: 100 })),
});

Deno.test("manifests round-trip, and a damaged one is refused", () => {
  const header = encodeManifestHeader("ab".repeat(16), 1_700_000_000_000);
  const records = encodeManifestRecords([{ actionId: id(1), size: 5 }, {
    actionId: id(2),
    size: 2 ** 40,
  }]);
  const value = new Uint8Array([...header, ...records]);
  assert.deepEqual(decodeManifest(value), {
    jobHash: "ab".repeat(16),
    createdMillis: 1_700_000_000_000,
    records: [{ actionId: id(1), size: 5 }, { actionId: id(2), size: 0xffffffff }],
  });
  assert.equal(decodeManifest(value.subarray(0, value.length - 1)), undefined, "not whole records");
  assert.equal(
    decodeManifest(value.subarray(0, MANIFEST_HEADER_BYTES - 1)),
    undefined,
    "no header",
  );
  const wrongMagic = value.slice();
  wrongMagic[0] = 0;
  assert.equal(decodeManifest(wrongMagic), undefined);
});

Deno.test("ManifestRecorder keeps first-use order, once per action, within the size limit", () => {
  const recorder = new ManifestRecorder(1000);
  recorder.note(id(3), 10);
  recorder.note(id(1), 10);
  recorder.note(id(3), 10);
  recorder.note(id(2), 5000);
  assert.deepEqual(recorder.records.map((record) => record.actionId), [id(3), id(1)]);
});

Deno.test("deriveScopes() reads GitLab merge requests and branches", () => {
  const mr = deriveScopes((name) =>
    ({
      GITLAB_CI: "true",
      CI_JOB_NAME: "unit",
      CI_MERGE_REQUEST_IID: "42",
      CI_MERGE_REQUEST_TARGET_BRANCH_NAME: "develop",
      CI_DEFAULT_BRANCH: "main",
      CI_COMMIT_REF_NAME: "feature",
      CI_JOB_ID: "777",
    })[name]
  );
  assert.deepEqual(mr, {
    buildType: "unit",
    own: "mr:42",
    base: "ref:develop",
    default: "ref:main",
    writesDefault: false,
    jobId: "777",
    toolchain: "",
  });
  const main = deriveScopes((name) =>
    ({
      GITLAB_CI: "true",
      CI_JOB_NAME: "unit",
      CI_COMMIT_REF_NAME: "main",
      CI_DEFAULT_BRANCH: "main",
    })[name]
  );
  assert.equal(main.own, "ref:main");
  assert.equal(main.writesDefault, true);
});

Deno.test("deriveScopes() reads GitHub pull requests and pushes, and explicit values win", () => {
  const pr = deriveScopes((name) =>
    ({
      GITHUB_ACTIONS: "true",
      GITHUB_WORKFLOW: "ci",
      GITHUB_JOB: "build",
      GITHUB_REF: "refs/pull/7/merge",
      GITHUB_BASE_REF: "main",
      GITHUB_RUN_ID: "1",
      GITHUB_RUN_ATTEMPT: "2",
    })[name]
  );
  assert.equal(pr.buildType, "ci/build");
  assert.equal(pr.own, "pr:7");
  assert.equal(pr.base, undefined, "the base is the default branch: no separate scope");
  assert.equal(pr.default, "ref:main");
  assert.equal(pr.jobId, "1-2-build");
  const push = deriveScopes(
    (name) =>
      ({ GITHUB_ACTIONS: "true", GITHUB_REF: "refs/heads/trunk", GITHUB_REF_NAME: "trunk" })[name],
    { defaultBranch: "trunk", buildType: "nightly" },
  );
  assert.equal(push.buildType, "nightly");
  assert.equal(push.writesDefault, true);
  const local = deriveScopes(() => undefined);
  assert.equal(local.own, undefined);
  assert.equal(local.buildType, "default");
});

Deno.test("selectPrefetch() takes own then base, adds the default only when they are missing or small", () => {
  const none = () => false;
  const big = 10 ** 9;
  const union = selectPrefetch({
    own: manifestOf(1, 2),
    base: manifestOf(2, 3),
    default: manifestOf(4),
  }, {
    isLocal: none,
    maxBytes: big,
  });
  assert.deepEqual(union.map((record) => record.actionId), [id(1), id(2), id(3)]);
  const fallback = selectPrefetch({ default: manifestOf(4, 5) }, { isLocal: none, maxBytes: big });
  assert.deepEqual(fallback.map((record) => record.actionId), [id(4), id(5)]);
  const topUp = selectPrefetch({ own: manifestOf(1), default: manifestOf(4, 5, 6, 7, 8) }, {
    isLocal: none,
    maxBytes: big,
  });
  assert.deepEqual(topUp.map((record) => record.actionId), [
    id(1),
    id(4),
    id(5),
    id(6),
    id(7),
    id(8),
  ]);
  const budget = selectPrefetch({ own: manifestOf(1, 2, 3) }, {
    isLocal: (a) => a === id(1),
    maxBytes: 100,
  });
  assert.deepEqual(
    budget.map((record) => record.actionId),
    [id(2)],
    "local entries skipped, then the budget",
  );
});

Deno.test("deriveScopes() reads only the CI and go variables that Redis mode is allowed to read", () => {
  const read = new Set<string>();
  const gitlab = (name: string) => (read.add(name), name === "GITLAB_CI" ? "true" : "x");
  const github = (name: string) => (
    read.add(name), name === "GITHUB_ACTIONS" ? "true" : name === "GITLAB_CI" ? undefined : "x"
  );
  deriveScopes(gitlab);
  deriveScopes(github);
  assert.ok(read.size > 10, [...read].join(" "));
  for (const name of read) {
    assert.ok(CI_ENV_VARIABLES.includes(name) || GO_ENV_VARIABLES.includes(name), name);
  }
});

Deno.test("deriveScopes() names the toolchain and target from the go command's environment", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  const go126 = deriveScopes(
    env({ GOVERSION: "go1.26.8", GOOS: "linux", GOARCH: "amd64", GOAMD64: "v1", CGO_ENABLED: "1" }),
  );
  assert.equal(
    go126.toolchain,
    "GOVERSION=go1.26.8\nGOOS=linux\nGOARCH=amd64\nGOAMD64=v1\nCGO_ENABLED=1",
  );
  const go127 = deriveScopes(env({ GOVERSION: "go1.27.3", GOOS: "linux", GOARCH: "amd64" }));
  assert.notEqual(go127.toolchain, go126.toolchain);
  assert.equal(
    deriveScopes(env({ GOVERSION: "go1.27.3", GOOS: "linux", GOARCH: "amd64", GOTOOLCHAIN: "x" }))
      .toolchain,
    go127.toolchain,
    "other variables play no part",
  );
  for (const name of GO_ENV_VARIABLES) {
    assert.ok(REDIS_ENV_PERMISSION.split(",").includes(name), name);
  }
});
