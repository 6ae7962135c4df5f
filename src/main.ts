/**
 * The command-line program: parses flags, checks permissions, and runs the command
 * (serving the go command unless another is named), with its exit status. The go
 * command starts it once per go process and waits for its handshake, so this file keeps
 * its static imports to what the handshake needs: the stores (and the Redis code), the
 * other commands, the help text and the metrics file are loaded when they are used, the
 * stores after the handshake, while the go command loads its packages.
 *
 * Exit status: 0 on success, 1 when a command failed (or the program has a bug, which
 * it names as such), 2 on a usage error (the command line or the permissions).
 *
 * @module
 */

import { type Command, type Config, parseConfig } from "./cli/config.ts";
import { cacheDirOf, realCacheDir } from "./cli/cache_dir.ts";
import type { CommandContext } from "./cli/commands/context.ts";
import {
  missingPermissionFlags,
  permissionNeeds,
  queryDenoPermission,
  readEnvIfGranted,
  readOwnEnv,
} from "./cli/permissions.ts";
import { remoteSettingsOf } from "./cli/remote_settings.ts";
import { writeStderrLine } from "./util/log.ts";
import { writeStdout } from "./cli/stdout.ts";
import { VERSION } from "./version.ts";
import { messageOf, UsageError } from "./errors.ts";
// Static: serving is what nearly every start is for, and the handshake waits on it.
import { runServe } from "./cli/commands/serve.ts";

/**
 * Runs the program.
 *
 * @param args The command-line arguments after the program name.
 * @returns The exit status: 0 on success, 1 when the command failed, 2 on a usage error.
 */
export async function main(args: readonly string[]): Promise<number> {
  let context: CommandContext;
  try {
    const config = parseConfig(args, readOwnEnv);
    if (config.help) {
      const { usage } = await import("./cli/usage.ts");
      writeStdout(usage(VERSION));
      return 0;
    }
    if (config.version) {
      writeStdout(`gocacheprog ${VERSION}\n`);
      return 0;
    }
    context = makeContext(config);
  } catch (error) {
    if (error instanceof UsageError) {
      writeStderrLine(`gocacheprog: ${error.message}`);
      return 2;
    }
    writeStderrLine(`gocacheprog: bug: ${messageOf(error)} (please report it)`);
    return 1;
  }
  try {
    return await runCommand(context.config.command, context);
  } catch (error) {
    writeStderrLine(`gocacheprog: ${context.config.command} failed: ${messageOf(error)}`);
    return 1;
  }
}

/**
 * The command's context, once its permissions are checked and the Redis settings read.
 *
 * @throws {UsageError} On a missing permission, or an unusable configuration.
 */
function makeContext(config: Config): CommandContext {
  const { dir, linkedFrom } = realCacheDir(
    cacheDirOf(config, readEnvIfGranted, () => Deno.cwd()),
  );
  // doctor reports missing permissions itself, among its other checks.
  if (config.command !== "doctor") {
    const missing = missingPermissionFlags(permissionNeeds(config, dir), queryDenoPermission);
    if (missing.length > 0) {
      throw new UsageError(
        `missing Deno permissions: run deno with ${missing.join(" ")} (` +
          (linkedFrom === undefined
            ? ""
            : `the cache directory ${linkedFrom} is a link to ${dir}, and Deno checks the real path; `) +
          "see the README's install section)",
      );
    }
  }
  const context: CommandContext = {
    config,
    dir,
    ...(linkedFrom === undefined ? {} : { dirLinkedFrom: linkedFrom }),
    print: (line) => writeStdout(line + "\n"),
    error: (line) => writeStderrLine(`gocacheprog: ${line}`),
    query: queryDenoPermission,
    goEnv,
  };
  Object.assign(context, remoteSettingsOf(config));
  return context;
}

/** Runs a command; each but serving is loaded only when it is run. */
async function runCommand(command: Command, context: CommandContext): Promise<number> {
  switch (command) {
    case "serve":
      return await runServe(context);
    case "prefetch":
      return await (await import("./cli/commands/prefetch.ts")).runPrefetch(context);
    case "stats":
      return await (await import("./cli/commands/stats.ts")).runStats(context);
    case "trim":
      return (await import("./cli/commands/trim.ts")).runTrim(context);
    case "clear":
      return await (await import("./cli/commands/clear.ts")).runClear(context);
    case "doctor":
      return await (await import("./cli/commands/doctor.ts")).runDoctor(context);
  }
}

/** `go env -json`, with GOCACHEPROG cleared (else that go command would start us). */
async function goEnv(names: readonly string[]): Promise<Record<string, string>> {
  const output = await new Deno.Command("go", {
    args: ["env", "-json", ...names],
    env: { GOCACHEPROG: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr).trim());
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
