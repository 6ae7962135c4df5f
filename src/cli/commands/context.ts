/**
 * What every command is given: the configuration, the cache directory, the Redis
 * settings, where to print, and the few things of the machine it may ask about. The
 * program fills it with the real ones; tests fill it with their own, and run the
 * commands in-process.
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { RemoteSettings } from "../remote_settings.ts";
import type { PermissionQuery } from "../permissions.ts";

/** What a command works on, and where it prints. */
export interface CommandContext {
  /** The parsed configuration. */
  config: Config;
  /** The local store's directory, at its real path. */
  dir: string;
  /** The directory as given, when it is reached through a symbolic link. */
  dirLinkedFrom?: string;
  /** The Redis settings, when Redis is configured and its files could be read. */
  remote?: RemoteSettings;
  /** Why Redis is configured but cannot be used (a file it names cannot be read). */
  remoteProblem?: string;
  /** Prints one line of the command's output (stdout). */
  print: (line: string) => void;
  /** Prints one line about a problem (stderr, with the program's prefix). */
  error: (line: string) => void;
  /** Whether a Deno permission is granted, without prompting. */
  query: PermissionQuery;
  /**
   * The go command's settings (`go env`), for `doctor` and for a `prefetch` step run
   * outside the go command.
   *
   * @param names The variables, such as `GOVERSION`.
   * @returns Each variable's value, empty when unset.
   * @throws If `go` cannot be run (not installed, or not permitted).
   */
  goEnv: (names: readonly string[]) => Promise<Record<string, string>>;
}
