/**
 * Running commands to completion, with their output decoded and their wall time.
 *
 * @module
 */

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
export function runCommand(
  argv: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  return startCommand(argv, options).result;
}

/**
 * Starts a command, and decodes its output once it has ended.
 *
 * @param argv The command line.
 * @param options Environment and working directory.
 * @returns Its process ID, and its result once it has ended.
 */
export function startCommand(
  argv: readonly string[],
  options: RunCommandOptions = {},
): { pid: number; result: Promise<CommandResult> } {
  const started = performance.now();
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env: options.env ?? {},
    clearEnv: options.clearEnv ?? false,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  const result = child.output().then((output) => ({
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    millis: performance.now() - started,
  }));
  return { pid: child.pid, result };
}
