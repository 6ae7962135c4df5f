/**
 * The machine the tests run on: the repository, required tools, temporary directories and free ports. Tests never skip: a missing tool fails with what to install.
 *
 * @module
 */

/** The repository's root directory. */
export const REPO_ROOT: string = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

const INSTALL_HINTS: Record<string, string> = {
  go: "install Go 1.24 or newer (https://go.dev/dl/) and put `go` on PATH",
  "redis-server": "install Redis (Debian: apt-get install redis-server)",
  "redis-cli": "install Redis (Debian: apt-get install redis-tools)",
  openssl: "install OpenSSL (Debian: apt-get install openssl)",
  time: "install GNU time (Debian: apt-get install time)",
  script: "install util-linux (Debian: apt-get install util-linux)",
  unshare: "install util-linux (Debian: apt-get install util-linux); it needs root",
  npm: "install Node.js and npm (Debian: apt-get install npm)",
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
