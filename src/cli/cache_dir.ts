/**
 * Where the cache directory is: the one the flags or the environment name, else the go
 * command's own default (as `os.UserCacheDir` finds it: `$XDG_CACHE_HOME/go-build`, else
 * `$HOME/.cache/go-build`; `$HOME/Library/Caches/go-build` on macOS), made absolute, and
 * then resolved to its real path. Deno checks some file operations against a file's real
 * path (an open file's `stat`), so a cache directory reached through a symbolic link
 * (a CI volume, a linked `~/.cache`, macOS's `/tmp`) is used, and its permissions
 * checked, at its real path.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { UsageError } from "../errors.ts";

/** Reads an environment variable; `undefined` when unset or not readable. */
export type EnvReader = (name: string) => string | undefined;

/** The environment variables the go command's default cache directory is found from. */
export const CACHE_HOME_VARIABLES: readonly string[] = ["XDG_CACHE_HOME", "HOME"];

/** The cache directory, as given and as it really is. */
export interface CacheDir {
  /** The real path, which every file operation uses. */
  dir: string;
  /** The path as given, when it differs from the real one (it goes through a link). */
  linkedFrom?: string;
}

/**
 * The absolute cache directory the configuration names, or the go command's default.
 *
 * @param config The parsed configuration.
 * @param env Reads `HOME` and `XDG_CACHE_HOME`, for the default.
 * @param cwd Returns the working directory; only called for a relative path.
 * @returns The absolute directory, without a trailing slash.
 * @throws {UsageError} If there is none (no `GOCACHE`, and no home to find the go
 * command's default in), or `GOCACHE` is `off`.
 */
export function cacheDirOf(config: Config, env: EnvReader, cwd: () => string): string {
  const dir = config.dir ?? defaultCacheDir(env);
  if (dir === undefined) {
    throw new UsageError(
      "No cache directory: pass --dir DIR, or set GOCACHEPROG_DIR or GOCACHE (the go command " +
        "sets GOCACHE for the programs it starts; with deno run, allow reading it with " +
        "--allow-env=GOCACHE), or HOME for the go command's default",
    );
  }
  if (dir === "off") {
    throw new UsageError(
      'GOCACHE is "off": the go command then has no build cache, and so nothing to serve',
    );
  }
  const absolute = dir.startsWith("/") ? dir : `${cwd()}/${dir}`;
  return absolute.length > 1 ? absolute.replace(/\/+$/, "") : absolute;
}

/**
 * The go command's default cache directory, as `os.UserCacheDir` finds it.
 *
 * @param env Reads `HOME` and `XDG_CACHE_HOME`.
 * @param os The operating system; this one's unless given.
 * @returns The directory, or `undefined` when there is no home to find it in.
 */
export function defaultCacheDir(
  env: EnvReader,
  os: typeof Deno.build.os = Deno.build.os,
): string | undefined {
  const home = env("HOME");
  if (os === "darwin") return home ? `${home}/Library/Caches/go-build` : undefined;
  const xdg = env("XDG_CACHE_HOME");
  // os.UserCacheDir ignores a relative XDG_CACHE_HOME, as the XDG specification says.
  if (xdg !== undefined && xdg.startsWith("/")) return `${xdg}/go-build`;
  return home ? `${home}/.cache/go-build` : undefined;
}

/**
 * Resolves a cache directory to its real path: the directory's own, or, when it does not
 * exist yet, its nearest existing parent's with the rest appended. A path that cannot be
 * resolved (reading it is not granted) is kept as it is: the permission check then names
 * the grant that is missing.
 *
 * @param dir An absolute directory.
 * @returns The real path, and the path as given when they differ.
 */
export function realCacheDir(dir: string): CacheDir {
  const rest: string[] = [];
  let existing = dir;
  for (;;) {
    try {
      const real = Deno.realPathSync(existing);
      const resolved = [real.replace(/\/+$/, ""), ...rest.reverse()].join("/") || "/";
      return resolved === dir ? { dir } : { dir: resolved, linkedFrom: dir };
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound) || existing === "/") return { dir };
      const slash = existing.lastIndexOf("/");
      rest.push(existing.slice(slash + 1));
      existing = slash === 0 ? "/" : existing.slice(0, slash);
    }
  }
}
