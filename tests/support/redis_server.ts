/**
 * redis-server processes started by the tests on free loopback ports: standalone, Cluster and Sentinel.
 *
 * @module
 */

import { freePort, requireTool } from "./tools.ts";

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
  /** Stores bytes under a key as they are (`redis-cli -x SET`), for values no text holds. */
  setBytes(key: string, value: Uint8Array): Promise<void>;
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
  const setBytes = async (key: string, value: Uint8Array): Promise<void> => {
    const child = new Deno.Command(cliPath, {
      args: [...cliArgs, "-x", "SET", key],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(value);
    await writer.close();
    const output = await child.output();
    const reply = new TextDecoder().decode(output.stdout).trim();
    if (reply !== "OK") throw new Error(`redis-cli -x SET answered ${reply}`);
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
  const server = redisHandle(port, child.pid, cli, kill, setBytes);
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
  setBytes: RedisServer["setBytes"] = () => Promise.reject(new Error("not a data server")),
): RedisServer {
  return {
    port,
    pid,
    cli,
    setBytes,
    kill,
    freeze: () => Deno.kill(pid, "SIGSTOP"),
    thaw: () => Deno.kill(pid, "SIGCONT"),
    [Symbol.asyncDispose]: kill,
  };
}

/**
 * Starts three Cluster nodes and joins them: each takes a third of the slots and its own
 * config epoch, then they meet (what `redis-cli --cluster create` does, without its
 * waits of a second each).
 *
 * @param dir A directory for the nodes' files.
 * @returns The nodes; dispose of each when done.
 */
export async function startRedisCluster(dir: string): Promise<RedisServer[]> {
  const nodes = await Promise.all([0, 1, 2].map(() => startRedis({ dir, cluster: true })));
  const ranges = [["0", "5460"], ["5461", "10922"], ["10923", "16383"]];
  for (const [i, node] of nodes.entries()) {
    await node.cli("CLUSTER", "ADDSLOTSRANGE", ...ranges[i]!);
    await node.cli("CLUSTER", "SET-CONFIG-EPOCH", String(i + 1));
  }
  for (const node of nodes.slice(1)) {
    await nodes[0]!.cli("CLUSTER", "MEET", "127.0.0.1", String(node.port));
  }
  for (let attempt = 0; attempt < 200; attempt++) {
    const states = await Promise.all(nodes.map((node) => node.cli("CLUSTER", "INFO")));
    if (
      states.every((state) => /cluster_state:ok/.test(state) && /cluster_known_nodes:3/.test(state))
    ) {
      return nodes;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
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
