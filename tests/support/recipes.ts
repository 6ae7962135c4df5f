/**
 * Running the README's recipes as written: its fenced blocks, found under their
 * sections' headings, run by bash in a runner-like environment (a fresh `HOME`, no
 * `GOCACHE`, the CI's variables), and its CI recipes run as GitLab and GitHub Actions
 * would run their jobs' commands.
 *
 * @module
 */

import { parseYamlSubset, type YamlValue } from "./yaml_subset.ts";
import { type CommandResult, runCommand } from "./process.ts";
import { REPO_ROOT, requireTool } from "./tools.ts";

/** One fenced block of the README. */
export interface ReadmeBlock {
  /** Its language: `sh`, `yaml`, ... */
  lang: string;
  /** Its text. */
  text: string;
}

/**
 * The fenced blocks of one `## ` section of the README, in order.
 *
 * @param heading The section's heading, without the `## `.
 * @returns Its blocks.
 * @throws If there is no such section.
 */
export async function readmeBlocks(heading: string): Promise<ReadmeBlock[]> {
  const readme = await Deno.readTextFile(`${REPO_ROOT}/README.md`);
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`The README has no section "${heading}"`);
  const end = readme.indexOf("\n## ", start + 4);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((match) => ({
    lang: match[1]!,
    text: match[2]!,
  }));
}

/** The machine's own settings a runner keeps: how it reaches the network, and its CA. */
const PASSED_THROUGH = [
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NODE_EXTRA_CA_CERTS",
  "DENO_CERT",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "GOPROXY",
];

/** A runner: its own home, and the environment every step sees. */
export interface Runner {
  /** Its home directory (it has a space in its path, as many do). */
  home: string;
  /** The environment: a fresh `HOME`, `PATH` with deno and go, no `GOCACHE`, and more. */
  env: Record<string, string>;
}

/**
 * A runner-like environment in `dir`: a fresh home, and only what a CI runner has.
 *
 * @param dir A directory for the runner's home.
 * @param env More variables (the CI's, and `GOCACHE_REDIS`).
 * @returns The runner.
 */
export async function makeRunner(dir: string, env: Record<string, string>): Promise<Runner> {
  const home = `${dir}/runner home`;
  await Deno.mkdir(home, { recursive: true });
  const tools = [Deno.execPath(), requireTool("go"), requireTool("npm")].map((path) =>
    path.slice(0, path.lastIndexOf("/"))
  );
  return {
    home,
    env: {
      HOME: home,
      PATH: [...new Set([...tools, "/usr/local/bin", "/usr/bin", "/bin"])].join(":"),
      GOCACHEPROG_SRC: REPO_ROOT,
      // -x shows what each go command compiles; GOFLAGS is the runner's, not the recipe's.
      GOFLAGS: "-x",
      NO_COLOR: "1",
      // How this machine reaches npm and the Go module proxy (its CA): a runner's settings too.
      ...Object.fromEntries(
        PASSED_THROUGH.map((name) => [name, Deno.env.get(name)]).filter((
          entry,
        ): entry is [string, string] => entry[1] !== undefined),
      ),
      ...env,
    },
  };
}

/**
 * Runs shell text with bash, stopping at the first failing command.
 *
 * @param script The commands.
 * @param runner The environment.
 * @param cwd The directory.
 * @returns What it printed, and its status.
 */
export function runShell(script: string, runner: Runner, cwd: string): Promise<CommandResult> {
  return runCommand(["bash", "-e", "-o", "pipefail", "-c", script], {
    env: runner.env,
    clearEnv: true,
    cwd,
  });
}

/** The value of a map's key, which must be a map. */
function mapOf(value: YamlValue | undefined, what: string): Record<string, YamlValue> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${what} is not a map`);
  }
  return value;
}

function stringsOf(value: YamlValue | undefined, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw new Error(`${what} is not a list of commands`);
  }
  return value as string[];
}

/**
 * Runs a GitLab CI job of a recipe as a runner would: its `variables` (expanded as GitLab
 * expands them, in order), then its `before_script` and `script` lines, in one shell.
 *
 * @param yaml The recipe.
 * @param job The job's name.
 * @param runner The environment (GitLab's predefined variables included).
 * @param cwd The checkout: `CI_PROJECT_DIR`.
 * @returns What it printed, and its status.
 */
export function runGitlabJob(
  yaml: string,
  job: string,
  runner: Runner,
  cwd: string,
): Promise<CommandResult> {
  const document = mapOf(parseYamlSubset(yaml), "the recipe");
  const variables = mapOf(document.variables ?? {}, "variables");
  const steps = mapOf(document[job], `the job ${job}`);
  const script = [
    ...Object.entries(variables).map(([name, value]) => `export ${name}="${String(value)}"`),
    ...stringsOf(steps.before_script, "before_script"),
    ...stringsOf(steps.script, "script"),
  ].join("\n");
  return runShell(script, runner, cwd);
}

/**
 * Runs a GitHub Actions job of a recipe as a runner would: its `env` (with the
 * expressions given here), then each step: `run` steps in bash one after the other
 * (`$GITHUB_PATH` added to the next steps' PATH), `actions/checkout` as the checkout
 * already made, `actions/setup-go` as a check that the Go on PATH is the version asked.
 *
 * @param yaml The recipe.
 * @param job The job's name.
 * @param runner The environment (GitHub's predefined variables included).
 * @param cwd The checkout: `GITHUB_WORKSPACE`.
 * @param expressions The value of each `${{ ... }}` expression the recipe holds.
 * @returns What the steps printed, one after the other, and the last status.
 */
export async function runGithubJob(
  yaml: string,
  job: string,
  runner: Runner,
  cwd: string,
  expressions: Record<string, string>,
): Promise<CommandResult> {
  const expanded = yaml.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expression: string) => {
    const value = expressions[expression];
    if (value === undefined) throw new Error(`No value for the expression \${{ ${expression} }}`);
    return value;
  });
  const document = mapOf(parseYamlSubset(expanded), "the recipe");
  const definition = mapOf(mapOf(document.jobs, "jobs")[job], `the job ${job}`);
  const env = Object.fromEntries(
    Object.entries(mapOf(definition.env ?? {}, "env")).map((
      [name, value],
    ) => [name, String(value)]),
  );
  const githubPath = `${runner.home}/github-path`;
  await Deno.writeTextFile(githubPath, "");
  const all: CommandResult = { code: 0, stdout: "", stderr: "", millis: 0 };
  for (const step of stringsOrMaps(definition.steps)) {
    const uses = step.uses;
    if (typeof uses === "string") {
      if (uses.startsWith("actions/checkout@")) continue; // the checkout is `cwd`
      if (uses.startsWith("actions/setup-go@")) {
        const wanted = String(mapOf(step.with ?? {}, "with")["go-version"] ?? "");
        const version = await runShell("go env GOVERSION", runner, cwd);
        if (!version.stdout.trim().startsWith(`go${wanted}`)) {
          throw new Error(`setup-go asks for ${wanted}; this runner has ${version.stdout}`);
        }
        continue;
      }
      throw new Error(`No stand-in for the action ${uses}`);
    }
    const added = (await Deno.readTextFile(githubPath)).split("\n").filter((line) => line !== "");
    const stepRunner: Runner = {
      ...runner,
      env: {
        ...runner.env,
        ...env,
        GITHUB_PATH: githubPath,
        PATH: [...added.reverse(), runner.env.PATH].join(":"),
      },
    };
    const result = await runShell(String(step.run), stepRunner, cwd);
    all.stdout += result.stdout;
    all.stderr += result.stderr;
    all.millis += result.millis;
    all.code = result.code;
    if (result.code !== 0) break;
  }
  return all;
}

function stringsOrMaps(value: YamlValue | undefined): Record<string, YamlValue>[] {
  if (!Array.isArray(value)) throw new Error("steps is not a list");
  return value.map((step, i) => mapOf(step, `step ${i + 1}`));
}
