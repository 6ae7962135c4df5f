/**
 * The README's recipes, run as written: the Quick start, the Install section, and the
 * GitLab CI and GitHub Actions jobs of "In CI", each on runner-like machines (a fresh
 * `HOME` with a space in its path, no `GOCACHE`, the CI's variables set). Where a recipe
 * shares through Redis, runner A fills an empty Redis and runner B, on an empty cache of
 * its own, must compile nothing. The module built is a small one whose package imports
 * nothing, so that a cold build compiles one package on any machine.
 */
import assert from "node:assert/strict";
import { compiledPackages } from "../support/go.ts";
import {
  makeRunner,
  readmeBlocks,
  runGithubJob,
  runGitlabJob,
  runShell,
} from "../support/recipes.ts";
import { startRedis } from "../support/redis_server.ts";
import { tempDir } from "../support/tools.ts";
import type { CommandResult } from "../support/process.ts";

/** A module whose one package imports nothing, and has no tests. */
async function makeModule(dir: string): Promise<string> {
  await Deno.mkdir(`${dir}/p`, { recursive: true });
  await Deno.writeTextFile(`${dir}/go.mod`, "module example.com/recipe\n\ngo 1.24\n");
  await Deno.writeTextFile(
    `${dir}/p/p.go`,
    "package p\n\n// Double doubles.\nfunc Double(x int) int { return 2 * x }\n",
  );
  return dir;
}

function assertRan(result: CommandResult, what: string): void {
  assert.equal(result.code, 0, `${what} failed:\n${result.stdout}\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, /gocacheprog: warning:/, `${what} warned:\n${result.stderr}`);
}

Deno.test("README Quick start, as written: a build through gocacheprog, then one through Redis that a fresh runner is served from", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const [setup, local, shared] = await readmeBlocks("Quick start");
  assert.ok(setup?.lang === "sh" && local?.lang === "sh" && shared?.lang === "sh");
  const module = await makeModule(`${work.path}/module`);
  const env = { GOCACHE_REDIS: `127.0.0.1:${redis.port}` };
  // The set-up in the checkout, then a build in the module's directory: local only.
  const local1 = await makeRunner(`${work.path}/local`, env);
  const onLocal = await runShell(
    `${setup.text}\ncd "${module}"\n${local.text}`,
    local1,
    Deno.cwd(),
  );
  assertRan(onLocal, "the Quick start's local build");
  assert.deepEqual(compiledPackages(onLocal.stderr), ["example.com/recipe/p"], "it compiled");
  assert.match(onLocal.stderr, /gocacheprog: \d+ gets/, "the summary");
  // Runner A: the build through Redis, cold: it fills Redis.
  const a = await makeRunner(`${work.path}/a`, env);
  const onA = await runShell(`${setup.text}\ncd "${module}"\n${shared.text}`, a, Deno.cwd());
  assertRan(onA, "the Quick start's Redis build on runner A");
  assert.match(onA.stderr, /[1-9]\d* uploads/, "A uploaded what it compiled");
  // Runner B: a fresh home and cache; the build through Redis compiles nothing.
  const b = await makeRunner(`${work.path}/b`, env);
  const onB = await runShell(`${setup.text}\ncd "${module}"\n${shared.text}`, b, Deno.cwd());
  assertRan(onB, "the Quick start's Redis build on runner B");
  assert.deepEqual(compiledPackages(onB.stderr), [], `B compiled nothing:\n${onB.stderr}`);
  assert.match(onB.stderr, /hits: \d+ local, [1-9]\d* remote/);
});

Deno.test("README Install, as written: the installed command serves the go command, and stats and doctor work as installed", async () => {
  await using work = await tempDir();
  const [install, usage] = await readmeBlocks("Install");
  assert.ok(install?.lang === "sh" && usage?.lang === "sh");
  const module = await makeModule(`${work.path}/module`);
  const runner = await makeRunner(`${work.path}/a`, {});
  const installed = await runShell(
    `${install.text}\ncd "${module}"\n${usage.text}`,
    runner,
    Deno.cwd(),
  );
  assertRan(installed, "the Install recipe");
  assert.deepEqual(compiledPackages(installed.stderr), ["example.com/recipe/p"]);
  assert.match(
    installed.stdout,
    /local store .*: [1-9]\d* entries/,
    `gocacheprog stats:\n${installed.stdout}`,
  );
  assert.match(installed.stdout, /ok +go command: go1\.\d+/, "doctor checks go, as installed");
  assert.match(installed.stdout, /all is well/);
  // The installed command, as GOCACHEPROG: the next build compiles nothing.
  const again = await runShell(
    `${install.text}\ncd "${module}"\ngo build ./...`,
    runner,
    Deno.cwd(),
  );
  assertRan(again, "a second build");
  assert.deepEqual(compiledPackages(again.stderr), []);
});

Deno.test("README In CI, GitLab CI, as written: runner A fills Redis, runner B compiles nothing", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const gitlab = (await readmeBlocks("In CI")).find((block) =>
    block.lang === "yaml" && block.text.includes("before_script:")
  );
  assert.ok(gitlab !== undefined, "a GitLab CI recipe");
  const module = await makeModule(`${work.path}/builds/project`);
  const ci = (job: number) => ({
    GITLAB_CI: "true",
    CI: "true",
    CI_PROJECT_DIR: module,
    CI_JOB_NAME: "build",
    CI_JOB_ID: String(job),
    CI_COMMIT_REF_NAME: "main",
    CI_DEFAULT_BRANCH: "main",
    GOCACHE_REDIS: `127.0.0.1:${redis.port}`, // the project's CI/CD variable
  });
  const onA = await runGitlabJob(
    gitlab.text,
    "build",
    await makeRunner(`${work.path}/a`, ci(1)),
    module,
  );
  assertRan(onA, "the GitLab job on runner A");
  assert.deepEqual(compiledPackages(onA.stderr), ["example.com/recipe/p"]);
  assert.match(onA.stdout, /redis keys under the prefix: [1-9]/, "gocacheprog stats");
  await Deno.remove(`${module}/.cache`, { recursive: true }); // runner B's cache is empty
  const onB = await runGitlabJob(
    gitlab.text,
    "build",
    await makeRunner(`${work.path}/b`, ci(2)),
    module,
  );
  assertRan(onB, "the GitLab job on runner B");
  assert.deepEqual(compiledPackages(onB.stderr), [], `B compiled nothing:\n${onB.stderr}`);
});

Deno.test("README In CI, GitHub Actions, as written: runner A fills Redis, runner B compiles nothing", async () => {
  await using work = await tempDir();
  await using redis = await startRedis({ dir: work.path });
  const github = (await readmeBlocks("In CI")).find((block) =>
    block.lang === "yaml" && block.text.includes("steps:")
  );
  assert.ok(github !== undefined, "a GitHub Actions recipe");
  const module = await makeModule(`${work.path}/work/project`);
  const expressions = {
    "github.workspace": module,
    "vars.GOCACHE_REDIS": `127.0.0.1:${redis.port}`,
    "secrets.GOCACHE_REDIS_PASSWORD": "", // this Redis has none
    "github.event.pull_request.head.repo.fork == true": "false", // a push
  };
  const ci = (run: number) => ({
    GITHUB_ACTIONS: "true",
    CI: "true",
    GITHUB_WORKFLOW: ".github/workflows/build.yml",
    GITHUB_JOB: "build",
    GITHUB_REF: "refs/heads/main",
    GITHUB_REF_NAME: "main",
    GITHUB_RUN_ID: String(run),
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_WORKSPACE: module,
  });
  const onA = await runGithubJob(
    github.text,
    "build",
    await makeRunner(`${work.path}/a`, ci(1)),
    module,
    expressions,
  );
  assertRan(onA, "the GitHub job on runner A");
  assert.deepEqual(compiledPackages(onA.stderr), ["example.com/recipe/p"]);
  await Deno.remove(`${module}/.cache`, { recursive: true });
  const onB = await runGithubJob(
    github.text,
    "build",
    await makeRunner(`${work.path}/b`, ci(2)),
    module,
    expressions,
  );
  assertRan(onB, "the GitHub job on runner B");
  assert.deepEqual(compiledPackages(onB.stderr), [], `B compiled nothing:\n${onB.stderr}`);
});
