/**
 * The go command: running it with a clean environment, a fixture module, and a seeded GOCACHE shared by the tests.
 *
 * @module
 */

import { type CommandResult, startCommand } from "./process.ts";
import { requireTool, tempDir } from "./tools.ts";

/** Options for {@linkcode runGo}. */
export interface RunGoOptions {
  /** The working directory. */
  cwd: string;
  /** The GOCACHE directory. */
  gocache: string;
  /** The GOCACHEPROG value; absent for a native build. */
  gocacheprog?: string;
  /** More environment variables. */
  env?: Record<string, string>;
}

/** A go command started in the background. */
export interface RunningGo {
  /** Its process ID, to kill it (and what it started) as a runner is killed. */
  pid: number;
  /** Its exit status, output and wall time, once it has ended. */
  result: Promise<CommandResult>;
}

/**
 * Starts the go command with a clean, deterministic environment.
 *
 * @param args The go command's arguments.
 * @param options Where, and which cache.
 * @returns The running command.
 */
export function startGo(args: readonly string[], options: RunGoOptions): RunningGo {
  const go = requireTool("go");
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    GOCACHE: options.gocache,
    GOENV: "off",
    GOFLAGS: "",
    GOTOOLCHAIN: "local",
    GOPROXY: "off",
    GOPATH: Deno.env.get("GOPATH") ?? `${Deno.env.get("HOME") ?? "/root"}/go`,
    ...(options.gocacheprog === undefined ? {} : { GOCACHEPROG: options.gocacheprog }),
    ...options.env,
  };
  return startCommand([go, ...args], { cwd: options.cwd, env, clearEnv: true });
}

/**
 * Runs the go command with a clean, deterministic environment.
 *
 * @param args The go command's arguments.
 * @param options Where, and which cache.
 * @returns Its exit status, output and wall time.
 */
export function runGo(args: readonly string[], options: RunGoOptions): Promise<CommandResult> {
  return startGo(args, options).result;
}

/**
 * Writes a small Go module: a leaf package, packages that import it, a package with
 * tests, and a main package, so a build has real dependencies between actions.
 *
 * @param dir An empty directory.
 * @param modulePath The module's path; the import paths inside follow it.
 */
export async function makeGoModule(dir: string, modulePath = "example.com/fixture"): Promise<void> {
  const files: Record<string, string> = {
    "go.mod": `module ${modulePath}\n\ngo 1.24\n`,
    "lib/lib.go":
      'package lib\n\nimport "strings"\n\n// Shout upper-cases.\nfunc Shout(s string) string { return strings.ToUpper(s) + "!" }\n',
    "lib/lib_test.go":
      'package lib\n\nimport "testing"\n\nfunc TestShout(t *testing.T) {\n\tif got := Shout("hi"); got != "HI!" {\n\t\tt.Fatal(got)\n\t}\n}\n',
    "mathx/mathx.go":
      "package mathx\n\n// Sum adds.\nfunc Sum(xs ...int) int {\n\ts := 0\n\tfor _, x := range xs {\n\t\ts += x\n\t}\n\treturn s\n}\n",
    "mathx/mathx_test.go":
      'package mathx\n\nimport "testing"\n\nfunc TestSum(t *testing.T) {\n\tif Sum(1, 2, 3) != 6 {\n\t\tt.Fatal("sum")\n\t}\n}\n',
    "greet/greet.go":
      `package greet\n\nimport (\n\t"fmt"\n\n\t"${modulePath}/lib"\n\t"${modulePath}/mathx"\n)\n\n// Hello greets.\nfunc Hello(n string) string { return fmt.Sprintf("%s %d", lib.Shout(n), mathx.Sum(1, 2)) }\n`,
    "cmd/app/main.go":
      `package main\n\nimport (\n\t"fmt"\n\n\t"${modulePath}/greet"\n)\n\nfunc main() { fmt.Println(greet.Hello("go")) }\n`,
  };
  // Dated an hour back: the go command will not index (nor cache the index of) packages
  // whose files changed in the last two seconds, which would make lookups depend on timing.
  const anHourAgo = new Date(Date.now() - 3_600_000);
  for (const [name, text] of Object.entries(files)) {
    const path = `${dir}/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, text);
    await Deno.utime(path, anHourAgo, anHourAgo);
  }
}

let seedPromise: Promise<string> | undefined;

/** A temporary directory holding a fixture Go module and a fresh GOCACHE. */
export interface GoWorkspace extends AsyncDisposable {
  /** The temporary directory; everything else is inside it. */
  dir: string;
  /** The fixture module (see {@linkcode makeGoModule}). */
  module: string;
  /** A fresh GOCACHE (see {@linkcode freshGoCache}). */
  gocache: string;
}

/**
 * Makes a temporary directory with the fixture module and a fresh GOCACHE in it.
 *
 * @param prefix The directory's name prefix.
 * @returns The workspace; dispose of it to remove everything.
 */
export async function goWorkspace(prefix = "gocacheprog-go-"): Promise<GoWorkspace> {
  const dir = await tempDir(prefix);
  const module = `${dir.path}/module`;
  await Deno.mkdir(module);
  await makeGoModule(module);
  const gocache = await freshGoCache(dir.path);
  return {
    dir: dir.path,
    module,
    gocache,
    [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose](),
  };
}

/**
 * A GOCACHE holding the standard-library packages the fixture module needs, built once
 * per machine and Go version (a cold build of them takes about 30 s on two cores) and
 * shared by every test, which copies it. It is built natively from another module, so
 * the fixture's own packages are never in it. Building is guarded by a lock directory,
 * because test files run in parallel.
 *
 * @returns The seed directory; never write to it.
 */
export function seedGoCache(): Promise<string> {
  seedPromise ??= buildSeedGoCache();
  return seedPromise;
}

async function buildSeedGoCache(): Promise<string> {
  const goVersion = (await runGoVersion()).replace(/[^\w.-]/g, "_");
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  const seed = `${tmp}/gocacheprog-test-seed-${goVersion}`;
  const lock = `${seed}.lock`;
  for (const started = Date.now(); Date.now() - started < 600_000;) {
    if (await exists(`${seed}/.complete`)) return seed;
    try {
      await Deno.mkdir(lock);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      const age = Date.now() - ((await Deno.stat(lock)).mtime?.getTime() ?? 0);
      if (age > 600_000) await Deno.remove(lock, { recursive: true }).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    try {
      await using module = await tempDir("gocacheprog-seed-module-");
      await makeGoModule(module.path, "example.com/seed");
      await Deno.remove(seed, { recursive: true }).catch(() => {});
      for (const args of [["test", "./..."], ["vet", "./..."]]) {
        const result = await runGo(args, { cwd: module.path, gocache: seed });
        if (result.code !== 0) throw new Error(`Building the seed cache failed:\n${result.stderr}`);
      }
      await Deno.writeTextFile(`${seed}/.complete`, "");
      return seed;
    } finally {
      await Deno.remove(lock, { recursive: true }).catch(() => {});
    }
  }
  throw new Error(`Timed out waiting for the seed cache at ${seed}`);
}

async function runGoVersion(): Promise<string> {
  const output = await new Deno.Command(requireTool("go"), {
    args: ["env", "GOVERSION"],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(output.stdout).trim();
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A fresh GOCACHE inside `parent`: its own directories, holding hard links to the files
 * of {@linkcode seedGoCache}. Linking takes a fiftieth of the time and system CPU of
 * copying 60 MB for every test, and is safe because no writer of a cache changes a file
 * in place: this program creates new files and renames replacements into place, and the
 * go command rewrites an output only when it is damaged (use times are the only thing
 * shared writes change).
 *
 * @param parent A directory that will hold the cache.
 * @param name The cache's directory name.
 * @returns The new cache directory.
 */
export async function freshGoCache(parent: string, name = "gocache"): Promise<string> {
  const seed = await seedGoCache();
  const target = `${parent}/${name}`;
  const copy = await new Deno.Command("cp", { args: ["-al", seed, target] }).output();
  if (!copy.success) {
    throw new Error(`Copying the seed cache failed: ${new TextDecoder().decode(copy.stderr)}`);
  }
  await Deno.remove(`${target}/.complete`);
  return target;
}

/**
 * The packages a go command compiled, read from its `-x` output.
 *
 * @param stderr The go command's stderr, run with `-x`.
 * @returns The import paths passed to the compiler with `-p`, sorted.
 */
export function compiledPackages(stderr: string): string[] {
  const packages = new Set<string>();
  for (const line of stderr.split("\n")) {
    if (!/\/compile\s/.test(line)) continue;
    const match = /\s-p\s+(\S+)/.exec(line);
    if (match !== null) packages.add(match[1]!);
  }
  return [...packages].sort();
}

/**
 * How many action entries a GOCACHE holds.
 *
 * @param gocache The cache directory.
 * @returns The count of `-a` files.
 */
export function actionEntryCount(gocache: string): number {
  let count = 0;
  for (const shard of Deno.readDirSync(gocache)) {
    if (!shard.isDirectory) continue;
    for (const file of Deno.readDirSync(`${gocache}/${shard.name}`)) {
      if (file.name.endsWith("-a")) count++;
    }
  }
  return count;
}

/**
 * Waits until a go command running on `gocache` has put an entry (one more action entry
 * than `before`): proof that its build is under way, and still asking.
 *
 * @param gocache The cache directory.
 * @param before The count of action entries before the build.
 * @param build The build, which fails the wait if it ends first.
 */
export async function untilFirstPut(
  gocache: string,
  before: number,
  build: Promise<unknown>,
): Promise<void> {
  let ended = false;
  build.finally(() => ended = true);
  while (actionEntryCount(gocache) <= before) {
    if (ended) throw new Error("The build ended before it put anything");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A temporary directory holding only the fixture module, for tests that make their own
 * caches in it.
 *
 * @returns The directory, to dispose of, and the module's path.
 */
export async function moduleWorkspace(): Promise<
  { dir: AsyncDisposable & { path: string }; module: string }
> {
  const dir = await tempDir("gocacheprog-e2e-");
  const module = `${dir.path}/module`;
  await Deno.mkdir(module);
  await makeGoModule(module);
  return { dir, module };
}
