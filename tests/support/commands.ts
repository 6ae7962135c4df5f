/**
 * Running the program's commands in-process, over a context the test fills: what they
 * print is kept, permission queries are answered by the test, and `go` is not run.
 *
 * @module
 */

import type { CommandContext } from "../../src/cli/commands/context.ts";
import { parseConfig } from "../../src/cli/config.ts";
import { cacheDirOf, realCacheDir } from "../../src/cli/cache_dir.ts";
import { remoteSettingsOf } from "../../src/cli/remote_settings.ts";
import type { PermissionQuery } from "../../src/cli/permissions.ts";

/** What the fake `go env` answers by default. */
const GO_ENV: Record<string, string> = { GOVERSION: "go1.26.8", GOOS: "linux", GOARCH: "amd64" };

/** A command's context, and what the command printed through it. */
export interface CapturedCommand {
  /** The context to run the command with. */
  context: CommandContext;
  /** The lines printed to stdout. */
  printed: string[];
  /** The lines printed to stderr. */
  errors: string[];
}

/** Options for {@linkcode commandContext}. */
export interface CommandContextOptions {
  /** Answers permission queries; everything is granted unless given. */
  query?: PermissionQuery;
  /** What `go env` says; a recent Go on linux/amd64 unless given. */
  goEnv?: (names: readonly string[]) => Promise<Record<string, string>>;
  /** The environment the flags fall back to. */
  env?: Record<string, string>;
}

/**
 * A command's context from a command line, as the program makes it.
 *
 * @param args The program's arguments, the command first.
 * @param options Permissions, the go version and the environment.
 * @returns The context and the lines it will capture.
 */
export function commandContext(
  args: readonly string[],
  options: CommandContextOptions = {},
): CapturedCommand {
  const config = parseConfig(args, (name) => options.env?.[name]);
  const printed: string[] = [];
  const errors: string[] = [];
  const { dir, linkedFrom } = realCacheDir(
    cacheDirOf(config, (name) => options.env?.[name], () => Deno.cwd()),
  );
  const context: CommandContext = {
    config,
    dir,
    ...(linkedFrom === undefined ? {} : { dirLinkedFrom: linkedFrom }),
    print: (line) => printed.push(line),
    error: (line) => errors.push(line),
    query: options.query ?? (() => true),
    goEnv: options.goEnv ??
      ((names) =>
        Promise.resolve(Object.fromEntries(names.map((name) => [name, GO_ENV[name] ?? ""])))),
  };
  Object.assign(context, remoteSettingsOf(config));
  return { context, printed, errors };
}
