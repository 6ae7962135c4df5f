/**
 * Helpers shared by the tests and the benchmark: finding tools, temporary directories,
 * running this program and the go command, making Go modules, and a fake go client
 * that speaks the protocol over real pipes.
 *
 * @module
 */

import { ENV_PERMISSION, REDIS_ENV_PERMISSION } from "../src/config.ts";
import { sha256HexOffThread } from "../src/sha256.ts";

/** The repository's root directory. */
export const REPO_ROOT: string = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** The program's entry point. */
export const MOD_TS = `${REPO_ROOT}/mod.ts`;

const INSTALL_HINTS: Record<string, string> = {
  go: "install Go 1.24 or newer (https://go.dev/dl/) and put `go` on PATH",
  "redis-server": "install Redis (Debian: apt-get install redis-server)",
  "redis-cli": "install Redis (Debian: apt-get install redis-tools)",
  openssl: "install OpenSSL (Debian: apt-get install openssl)",
};

/**
 * Fails with a message naming what to install when a tool is missing. Tests never skip.
 *
 * @param tool A command name.
 * @returns The tool's absolute path.
 */
export function requireTool(tool: string): string {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    const candidate = `${dir}/${tool}`;
    try {
      if (Deno.statSync(candidate).isFile) return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(`This test needs \`${tool}\`: ${INSTALL_HINTS[tool] ?? `install ${tool}`}`);
}

/**
 * Creates a temporary directory that is removed when disposed.
 *
 * @param prefix A name prefix.
 * @returns The directory, usable with `await using`.
 */
export async function tempDir(
  prefix = "gocacheprog-test-",
): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** Options for {@linkcode programArgv}. */
export interface ProgramOptions {
  /** The cache directory, granted read and write; passed as `--dir` when `passDir`. */
  dir: string;
  /** Pass the directory with `--dir` (otherwise the program reads `$GOCACHE`). */
  passDir?: boolean;
  /** More program flags. */
  args?: readonly string[];
  /** Extra paths to allow reading (a password file, TLS certificates). */
  extraRead?: readonly string[];
  /** Redis hosts to allow connecting to; Redis mode also needs all of the environment. */
  redisHosts?: readonly string[];
}

/**
 * The command line that runs this program from the checkout with the permission flags
 * the README documents: for the disk-only mode, or with `redisHosts` for Redis.
 *
 * @param options The directory and flags.
 * @returns The argv, starting with the deno executable.
 */
export function programArgv(options: ProgramOptions): string[] {
  const read = [options.dir, ...(options.extraRead ?? [])].join(",");
  return [
    Deno.execPath(),
    "run",
    "--no-prompt",
    `--config=${REPO_ROOT}/deno.json`,
    `--allow-read=${read}`,
    `--allow-write=${options.dir}`,
    ...(options.redisHosts === undefined
      ? [`--allow-env=${ENV_PERMISSION}`]
      : [`--allow-net=${options.redisHosts.join(",")}`, `--allow-env=${REDIS_ENV_PERMISSION}`]),
    MOD_TS,
    ...(options.passDir === false ? [] : ["--dir", options.dir]),
    ...(options.args ?? []),
  ];
}

/**
 * The GOCACHEPROG value for this program with a Redis on 127.0.0.1, with the README's
 * permission flags for Redis and `--log-metrics` (the tests read its summary).
 *
 * @param gocache The cache directory (read by the program from `$GOCACHE`).
 * @param port The Redis port.
 * @param args More program flags.
 * @returns The value.
 */
export function redisGocacheprog(
  gocache: string,
  port: number,
  args: readonly string[] = [],
): string {
  return gocacheprogValue(programArgv({
    dir: gocache,
    passDir: false,
    redisHosts: ["127.0.0.1"],
    args: ["--redis-url", `127.0.0.1:${port}`, "--log-metrics", ...args],
  }));
}

/**
 * Joins an argv into a GOCACHEPROG value (the go command splits it on spaces).
 *
 * @param argv The command line; no element may contain a space.
 * @returns The value.
 */
export function gocacheprogValue(argv: readonly string[]): string {
  for (const arg of argv) {
    if (/\s/.test(arg)) throw new Error(`GOCACHEPROG argument with a space: "${arg}"`);
  }
  return argv.join(" ");
}

/** The result of a command. */
export interface CommandResult {
  /** Exit status. */
  code: number;
  /** Standard output as text. */
  stdout: string;
  /** Standard error as text. */
  stderr: string;
  /** Wall time in milliseconds. */
  millis: number;
}

/** Options for {@linkcode runCommand}. */
export interface RunCommandOptions {
  /** Environment variables, added to this process' unless `clearEnv`. */
  env?: Record<string, string>;
  /** Start from an empty environment. */
  clearEnv?: boolean;
  /** The working directory. */
  cwd?: string;
}

/**
 * Runs a command to completion and decodes its output.
 *
 * @param argv The command line.
 * @param options Environment and working directory.
 * @returns Its exit status, output and wall time.
 */
export async function runCommand(
  argv: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const started = performance.now();
  const output = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env: options.env ?? {},
    clearEnv: options.clearEnv ?? false,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    millis: performance.now() - started,
  };
}

/**
 * Runs this program from the checkout with every permission, for its commands
 * (`stats`, `clear`, `doctor`, `--help`) rather than for serving.
 *
 * @param args The program's arguments.
 * @param env Extra environment variables.
 * @returns Its exit status and output.
 */
export function runGocacheprog(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CommandResult> {
  return runCommand([
    Deno.execPath(),
    "run",
    "--no-prompt",
    "-A",
    `--config=${REPO_ROOT}/deno.json`,
    MOD_TS,
    ...args,
  ], { env });
}

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

/**
 * Runs the go command with a clean, deterministic environment.
 *
 * @param args The go command's arguments.
 * @param options Where, and which cache.
 * @returns Its exit status, output and wall time.
 */
export async function runGo(
  args: readonly string[],
  options: RunGoOptions,
): Promise<CommandResult> {
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
  return await runCommand([go, ...args], { cwd: options.cwd, env, clearEnv: true });
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

/** A decoded response, with the wire's field names. */
export interface WireResponse {
  /** The request's ID. */
  ID?: number;
  /** An error. */
  Err?: string;
  /** The handshake's commands. */
  KnownCommands?: string[];
  /** A miss. */
  Miss?: boolean;
  /** The OutputID, base64. */
  OutputID?: string;
  /** The size. */
  Size?: number;
  /** The put time, RFC 3339. */
  Time?: string;
  /** The output file. */
  DiskPath?: string;
}

/**
 * A stand-in for the go command: starts the program with piped stdin and stdout, reads
 * its handshake, writes requests exactly as the go command frames them, and collects
 * every response line (checking that each is valid JSON).
 */
export class FakeGoClient implements AsyncDisposable {
  /** The program's process. */
  readonly process: Deno.ChildProcess;
  /** Every response received, in order, the handshake first. */
  readonly responses: WireResponse[] = [];
  /** Everything the program wrote to stdout that was not a JSON object line. */
  readonly invalidLines: string[] = [];
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #waiters = new Map<number, (response: WireResponse) => void>();
  #stdoutDone: Promise<void>;
  #stderr: Promise<string>;
  #encoder = new TextEncoder();

  private constructor(process: Deno.ChildProcess) {
    this.process = process;
    this.#writer = process.stdin.getWriter();
    this.#stdoutDone = this.#readResponses();
    this.#stderr = new Response(process.stderr).text();
  }

  /**
   * Starts the program and waits for its handshake.
   *
   * @param argv The program's command line.
   * @param env Extra environment variables.
   * @returns The client.
   */
  static async start(
    argv: readonly string[],
    env: Record<string, string> = {},
  ): Promise<FakeGoClient> {
    const process = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env,
    }).spawn();
    const client = new FakeGoClient(process);
    await client.response(0);
    return client;
  }

  /**
   * Writes raw bytes to the program's stdin.
   *
   * @param data Text or bytes.
   */
  async writeRaw(data: string | Uint8Array): Promise<void> {
    await this.#writer.write(typeof data === "string" ? this.#encoder.encode(data) : data);
  }

  /**
   * Sends a request framed as the go command frames it: the JSON object, a newline, a
   * blank line, then for a body the quoted base64 line.
   *
   * @param request The request's wire fields.
   * @param body The body, for a put.
   */
  async send(request: Record<string, unknown>, body?: Uint8Array): Promise<void> {
    let text = JSON.stringify(request) + "\n\n";
    if (body !== undefined && body.length > 0) text += `"${body.toBase64()}"\n`;
    await this.writeRaw(text);
  }

  /**
   * Waits for the response to an ID.
   *
   * @param id The request ID.
   * @returns The response.
   */
  response(id: number): Promise<WireResponse> {
    const existing = this.responses.find((response) => (response.ID ?? 0) === id);
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve) => this.#waiters.set(id, resolve));
  }

  /**
   * Sends a request and waits for its answer.
   *
   * @param request The request's wire fields, with an `ID`.
   * @param body The body, for a put.
   * @returns The response.
   */
  async request(request: Record<string, unknown>, body?: Uint8Array): Promise<WireResponse> {
    const answer = this.response(request.ID as number);
    await this.send(request, body);
    return await answer;
  }

  /**
   * Closes stdin and waits for the program to exit.
   *
   * @returns Its exit status and stderr.
   */
  async finish(): Promise<{ code: number; stderr: string }> {
    await this.#writer.close().catch(() => {});
    const status = await this.process.status;
    await this.#stdoutDone;
    return { code: status.code, stderr: await this.#stderr };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.process.kill("SIGKILL");
    } catch {
      // already exited
    }
    await this.finish().catch(() => {});
  }

  async #readResponses(): Promise<void> {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of this.process.stdout) {
      const lines = (partial + decoder.decode(chunk, { stream: true })).split("\n");
      partial = lines.pop()!;
      for (const line of lines) this.#accept(line);
    }
    if (partial !== "") this.#accept(partial);
  }

  #accept(line: string): void {
    let response: WireResponse;
    try {
      response = JSON.parse(line);
      if (typeof response !== "object" || response === null || Array.isArray(response)) {
        throw new Error();
      }
    } catch {
      this.invalidLines.push(line);
      return;
    }
    this.responses.push(response);
    const id = response.ID ?? 0;
    const waiter = this.#waiters.get(id);
    this.#waiters.delete(id);
    waiter?.(response);
  }
}

/**
 * The SHA-256 of bytes, in the wire's base64.
 *
 * @param data The bytes.
 * @returns Standard base64 of the digest.
 */
export async function sha256Base64(data: Uint8Array): Promise<string> {
  return Uint8Array.fromHex(await sha256HexOffThread(data)).toBase64();
}

/**
 * The SHA-256 of a string, in the wire's base64: a stand-in ActionID.
 *
 * @param text The text.
 * @returns Standard base64 of the digest.
 */
export function actionIdFor(text: string): Promise<string> {
  return sha256Base64(new TextEncoder().encode(text));
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
 * A fresh GOCACHE inside `parent`, copied from {@linkcode seedGoCache}.
 *
 * @param parent A directory that will hold the cache.
 * @param name The cache's directory name.
 * @returns The new cache directory.
 */
export async function freshGoCache(parent: string, name = "gocache"): Promise<string> {
  const seed = await seedGoCache();
  const target = `${parent}/${name}`;
  const copy = await new Deno.Command("cp", { args: ["-a", seed, target] }).output();
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
 * A free TCP port on the loopback interface.
 *
 * @returns The port number.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Options for {@linkcode startRedis}. */
export interface RedisServerOptions {
  /** `requirepass`. */
  password?: string;
  /** ACL lines (`user NAME on >PASSWORD ~* +@all`). */
  aclUsers?: string[];
  /** Serve TLS only, with these files. */
  tls?: { cert: string; key: string; ca: string; authClients: "yes" | "no" | "optional" };
  /** Run as a Cluster node. */
  cluster?: boolean;
  /** More `redis-server` arguments. */
  args?: string[];
  /** A directory for the server's files. */
  dir: string;
}

/** A `redis-server` process started by a test. */
export interface RedisServer extends AsyncDisposable {
  /** Its port. */
  port: number;
  /** Its process ID. */
  pid: number;
  /** Runs `redis-cli` against it (with its password and TLS settings). */
  cli(...args: string[]): Promise<string>;
  /** Stops it for good (SIGKILL). */
  kill(): Promise<void>;
  /** Freezes it (SIGSTOP): connections open, nothing answered. */
  freeze(): void;
  /** Thaws it (SIGCONT). */
  thaw(): void;
}

/**
 * Starts a `redis-server` on a free loopback port and waits until it answers.
 *
 * @param options Password, ACL, TLS, Cluster mode, and its directory.
 * @returns The running server; dispose of it (or `kill()` it) when done.
 */
export async function startRedis(options: RedisServerOptions): Promise<RedisServer> {
  const serverPath = requireTool("redis-server");
  const cliPath = requireTool("redis-cli");
  const port = freePort();
  const args = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", options.dir];
  if (options.tls === undefined) {
    args.push("--port", String(port));
  } else {
    args.push(
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--tls-cert-file",
      options.tls.cert,
      "--tls-key-file",
      options.tls.key,
      "--tls-ca-cert-file",
      options.tls.ca,
      "--tls-auth-clients",
      options.tls.authClients,
    );
  }
  if (options.password !== undefined) args.push("--requirepass", options.password);
  if (options.cluster === true) {
    args.push(
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      `${options.dir}/nodes-${port}.conf`,
    );
  }
  const config = `${options.dir}/redis-${port}.conf`;
  await Deno.writeTextFile(config, (options.aclUsers ?? []).join("\n") + "\n");
  const child = new Deno.Command(serverPath, {
    args: [config, ...args, ...(options.args ?? [])],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const cliArgs = ["-p", String(port), "--no-auth-warning"];
  if (options.password !== undefined) cliArgs.push("-a", options.password);
  if (options.tls !== undefined) {
    cliArgs.push(
      "--tls",
      "--cacert",
      options.tls.ca,
      "--cert",
      options.tls.cert,
      "--key",
      options.tls.key,
    );
  }
  const cli = async (...command: string[]): Promise<string> => {
    const output = await new Deno.Command(cliPath, {
      args: [...cliArgs, ...command],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    return new TextDecoder().decode(output.stdout).trim();
  };
  let killed = false;
  const kill = async () => {
    if (killed) return;
    killed = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await stderr;
  };
  const server = redisHandle(port, child.pid, cli, kill);
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await cli("PING")) === "PONG") return server;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await kill();
  throw new Error(`redis-server on port ${port} did not start:\n${await stderr}`);
}

function redisHandle(
  port: number,
  pid: number,
  cli: RedisServer["cli"],
  kill: () => Promise<void>,
): RedisServer {
  return {
    port,
    pid,
    cli,
    kill,
    freeze: () => Deno.kill(pid, "SIGSTOP"),
    thaw: () => Deno.kill(pid, "SIGCONT"),
    [Symbol.asyncDispose]: kill,
  };
}

/**
 * Starts three Cluster nodes and joins them with `redis-cli --cluster create`.
 *
 * @param dir A directory for the nodes' files.
 * @returns The nodes; dispose of each when done.
 */
export async function startRedisCluster(dir: string): Promise<RedisServer[]> {
  const nodes = await Promise.all([0, 1, 2].map(() => startRedis({ dir, cluster: true })));
  const created = await new Deno.Command(requireTool("redis-cli"), {
    args: [
      "--cluster",
      "create",
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!created.success) {
    throw new Error(
      `redis-cli --cluster create failed: ${new TextDecoder().decode(created.stderr)}`,
    );
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    const states = await Promise.all(nodes.map((node) => node.cli("CLUSTER", "INFO")));
    if (states.every((state) => state.includes("cluster_state:ok"))) return nodes;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("The Redis Cluster did not reach cluster_state:ok");
}

/**
 * Starts a Sentinel watching `master` under the name `mymaster`.
 *
 * @param dir A directory for its configuration (Sentinel rewrites it).
 * @param master The server it watches.
 * @returns The Sentinel process.
 */
export async function startRedisSentinel(dir: string, master: RedisServer): Promise<RedisServer> {
  const port = freePort();
  const config = `${dir}/sentinel-${port}.conf`;
  await Deno.writeTextFile(
    config,
    `port ${port}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 ${master.port} 1\n` +
      "sentinel resolve-hostnames no\n",
  );
  const child = new Deno.Command(requireTool("redis-server"), {
    args: [config, "--sentinel"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const cli = async (...command: string[]): Promise<string> => {
    const output = await new Deno.Command(requireTool("redis-cli"), {
      args: ["-p", String(port), ...command],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(output.stdout).trim();
  };
  const kill = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
  };
  for (let attempt = 0; attempt < 100; attempt++) {
    if (
      (await cli("SENTINEL", "get-master-addr-by-name", "mymaster")).includes(String(master.port))
    ) {
      return redisHandle(port, child.pid, cli, kill);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await kill();
  throw new Error("redis-server --sentinel did not start");
}

/** Certificate files made by {@linkcode makeTlsCertificates}. */
export interface TlsFiles {
  /** The CA certificate. */
  ca: string;
  /** The server's certificate (for 127.0.0.1 and localhost). */
  serverCert: string;
  /** The server's key. */
  serverKey: string;
  /** A client certificate signed by the CA. */
  clientCert: string;
  /** The client's key. */
  clientKey: string;
}

/**
 * Makes a CA, a server certificate for 127.0.0.1 and localhost, and a client
 * certificate, with `openssl`, at test time.
 *
 * @param dir Where to write them.
 * @returns Their paths.
 */
export async function makeTlsCertificates(dir: string): Promise<TlsFiles> {
  const openssl = requireTool("openssl");
  const run = async (...args: string[]) => {
    const output = await new Deno.Command(openssl, { args, stdout: "piped", stderr: "piped" })
      .output();
    if (!output.success) {
      throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(output.stderr)}`);
    }
  };
  const files: TlsFiles = {
    ca: `${dir}/ca.crt`,
    serverCert: `${dir}/server.crt`,
    serverKey: `${dir}/server.key`,
    clientCert: `${dir}/client.crt`,
    clientKey: `${dir}/client.key`,
  };
  await run(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=gocacheprog test CA",
    "-keyout",
    `${dir}/ca.key`,
    "-out",
    files.ca,
  );
  for (const [name, cn] of [["server", "localhost"], ["client", "gocacheprog client"]] as const) {
    await run(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${cn}`,
      "-keyout",
      `${dir}/${name}.key`,
      "-out",
      `${dir}/${name}.csr`,
    );
    await Deno.writeTextFile(`${dir}/${name}.ext`, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    await run(
      "x509",
      "-req",
      "-in",
      `${dir}/${name}.csr`,
      "-CA",
      files.ca,
      "-CAkey",
      `${dir}/ca.key`,
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${dir}/${name}.ext`,
      "-out",
      `${dir}/${name}.crt`,
    );
  }
  return files;
}

/** A TCP proxy that adds latency, started by {@linkcode startLatencyProxy}. */
export interface LatencyProxy extends AsyncDisposable {
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 that adds `delayMillis` to every round trip: each chunk is
 * forwarded `delayMillis / 2` after it arrives, in order, in each direction, so
 * pipelining is kept (a pipeline of 100 commands costs one added round trip, not 100).
 * One upstream connection per client; Nagle is off on both sides.
 *
 * @param upstreamPort The port to forward to, on 127.0.0.1.
 * @param delayMillis The added round-trip time.
 * @returns The running proxy.
 */
export function startLatencyProxy(upstreamPort: number, delayMillis: number): LatencyProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections = new Set<Deno.Conn>();
  const oneWay = delayMillis / 2;
  // Deno's timers fire 1.1-1.4 ms late here: a proxy that asked for 2.5 ms each way gave
  // 7.2 ms round trips instead of 5. How late they fire is learned, and asked for less.
  let lateness = 0;
  const sleepUntil = async (due: number) => {
    const asked = Math.max(0, due - performance.now() - lateness);
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, asked));
    lateness = 0.8 * lateness + 0.2 * Math.max(0, performance.now() - started - asked);
  };
  const pump = async (from: Deno.Conn, to: Deno.Conn) => {
    const queue: { due: number; data: Uint8Array }[] = [];
    let ended = false;
    let wake: (() => void) | undefined;
    const reading = (async () => {
      const buffer = new Uint8Array(65536);
      try {
        for (;;) {
          const count = await from.read(buffer);
          if (count === null) break;
          queue.push({ due: performance.now() + oneWay, data: buffer.slice(0, count) });
          wake?.();
        }
      } catch {
        // the connection was closed
      }
      ended = true;
      wake?.();
    })();
    try {
      for (;;) {
        const next = queue[0];
        if (next === undefined) {
          if (ended) break;
          await new Promise<void>((resolve) => wake = resolve);
          wake = undefined;
          continue;
        }
        if (next.due > performance.now()) await sleepUntil(next.due);
        queue.shift();
        let written = 0;
        while (written < next.data.length) written += await to.write(next.data.subarray(written));
      }
      await to.closeWrite().catch(() => {});
    } catch {
      // the other side went away
    }
    await reading;
  };
  const accepting = (async () => {
    for await (const client of listener) {
      client.setNoDelay(true);
      let upstream: Deno.TcpConn;
      try {
        upstream = await Deno.connect({ hostname: "127.0.0.1", port: upstreamPort });
      } catch {
        client.close();
        continue;
      }
      upstream.setNoDelay(true);
      connections.add(client).add(upstream);
      Promise.all([pump(client, upstream), pump(upstream, client)]).finally(() => {
        for (const conn of [client, upstream]) {
          connections.delete(conn);
          try {
            conn.close();
          } catch {
            // already closed
          }
        }
      });
    }
  })().catch(() => {});
  const close = async () => {
    listener.close();
    for (const conn of connections) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
    await accepting;
  };
  return { port: (listener.addr as Deno.NetAddr).port, close, [Symbol.asyncDispose]: close };
}
