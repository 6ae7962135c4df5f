/**
 * The command line: the command, and the flags of the table in `flags.ts` with their
 * environment-variable fallbacks. Parsing is pure: the environment is passed in, so it
 * can be tested and so that nothing is read that the process has no permission for.
 *
 * Flags are accepted as `--name value`, `--name=value`, and with one dash (`-name`),
 * which is how the seed program (yonesko/gocacheprog, Go's `flag` package) spells them.
 * A flag given on the command line wins over its environment variable. Error messages
 * name the flag, never the value given: a mistyped flag may carry a password.
 *
 * @module
 */

import { FLAGS, type FlagSpec, type Settings } from "./flags.ts";
import { parseDuration, parseSize } from "./units.ts";
import { UsageError } from "../errors.ts";
import { prefixProblem } from "../redis/address.ts";

/** What the program was asked to do. */
export type Command = "serve" | "prefetch" | "stats" | "trim" | "clear" | "doctor";

/** The commands, with one line each for `--help`. */
export const COMMANDS: Readonly<Record<Command, string>> = {
  serve: "serve the go command over stdin and stdout (the default; what GOCACHEPROG runs)",
  prefetch:
    "fill the local store from Redis with what the build manifests list, then exit (a CI step at job start)",
  stats: "the local store's size, Redis' state and keys, and with --metrics-file the job's totals",
  trim: "one trim pass of the local store now",
  clear: "empty the local store (--local) or this prefix's keys in Redis (--remote)",
  doctor: "check Go, the cache directory, Redis and the permissions, and say how to fix problems",
};

/** The parsed configuration: the settings, and what only the command line tells. */
export interface Config extends Settings {
  /** The command; `serve` unless the first argument names another. */
  command: Command;
  /** Whether the password was given on the command line, where others can see it. */
  redisPasswordOnCommandLine: boolean;
}

/** Reads an environment variable; `undefined` when unset or not readable. */
export type EnvReader = (name: string) => string | undefined;

type Value = string | boolean | string[] | number;

/**
 * Parses the command line, falling back to environment variables, then to defaults.
 *
 * @param args The arguments after the program name.
 * @param env Reads environment variables.
 * @returns The configuration.
 * @throws {UsageError} On an unknown flag, a missing or malformed value, or an
 * unexpected argument; the message names the flag or variable, never its value.
 */
export function parseConfig(args: readonly string[], env: EnvReader): Config {
  const values = new Map<FlagSpec, Value>();
  let command: Command | undefined;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    // The command may follow flags: an installed command's shim puts its own first.
    if (!arg.startsWith("-") && command === undefined && !help) {
      if (arg === "help") {
        help = true; // `gocacheprog help` is `gocacheprog --help`
        continue;
      }
      command = commandNamed(arg);
      continue;
    }
    if (arg === "--" || !arg.startsWith("-") || arg === "-") {
      throw new UsageError(
        `Unexpected argument number ${i + 1}: after the command, every argument is a flag`,
      );
    }
    const body = arg.replace(/^--?/, "");
    const equals = body.indexOf("=");
    const name = equals >= 0 ? body.slice(0, equals) : body;
    const spec = findFlag(name);
    if (spec === undefined) {
      throw new UsageError(`Unknown flag "${arg.startsWith("--") ? "--" : "-"}${name}"`);
    }
    const source = `flag --${spec.name}`;
    if (spec.kind === "boolean") {
      values.set(spec, equals >= 0 ? parseBoolean(body.slice(equals + 1), source) : true);
      continue;
    }
    let value: string;
    if (equals >= 0) {
      value = body.slice(equals + 1);
    } else {
      const next = args[i + 1];
      if (next === undefined) throw new UsageError(`The ${source} needs a value`);
      value = next;
      i++;
    }
    if (value === "") throw new UsageError(`The ${source} needs a non-empty value`);
    values.set(spec, parseValue(spec, value, source, values.get(spec)));
  }
  const fromCommandLine = new Set(values.keys());
  for (const spec of FLAGS) {
    if (values.has(spec)) continue;
    for (const variable of [spec.env, spec.envFallback]) {
      if (variable === undefined) continue;
      const value = env(variable);
      if (value === undefined || value === "") continue;
      values.set(
        spec,
        spec.kind === "boolean"
          ? parseBoolean(value, variable)
          : parseValue(spec, value, variable, undefined),
      );
      break;
    }
  }
  const settings: Record<string, unknown> = {};
  for (const spec of FLAGS) {
    const value = values.get(spec) ?? spec.default ??
      (spec.kind === "boolean" ? false : spec.kind === "list" ? [] : undefined);
    if (value !== undefined) settings[spec.key] = value;
  }
  const config = {
    ...settings,
    ...(help ? { help: true } : {}),
    command: command ?? "serve",
    redisPasswordOnCommandLine: [...fromCommandLine].some((spec) => spec.key === "redisPassword"),
  } as Config;
  checkConfig(config);
  return config;
}

/** The command a word names. */
function commandNamed(word: string): Command {
  if (word in COMMANDS) return word as Command;
  const known = Object.keys(COMMANDS);
  const lower = word.toLowerCase();
  // A word is named; anything else might be a misplaced secret, and is not repeated.
  const named = /^[A-Za-z][A-Za-z-]{0,20}$/.test(word) ? ` "${word}"` : "";
  const meant = known.includes(lower) ? ` (did you mean "${lower}"?)` : "";
  throw new UsageError(`Unknown command${named}${meant}: the commands are ${known.join(", ")}`);
}

/** Rules that concern several flags, or a flag and the command. */
function checkConfig(config: Config): void {
  const prefix = prefixProblem(config.redisPrefix);
  if (prefix !== undefined) throw new UsageError(`--redis-prefix: ${prefix}`);
  if (config.redisTtlMillis < 1000) throw new UsageError("--redis-ttl must be at least 1s");
  if (
    config.command === "prefetch" && config.redisUrls.length === 0 &&
    config.redisSentinels.length === 0
  ) {
    throw new UsageError("prefetch needs Redis: give --redis-url or --redis-sentinel");
  }
  if (config.command === "clear" && config.clearLocal === config.clearRemote) {
    throw new UsageError("clear takes exactly one of --local and --remote");
  }
}

function parseValue(
  spec: FlagSpec,
  value: string,
  source: string,
  previous: Value | undefined,
): Value {
  switch (spec.kind) {
    case "list": {
      const items = value.split(",").map((item) => item.trim()).filter((item) => item !== "");
      return [...(Array.isArray(previous) ? previous : []), ...items];
    }
    case "size": {
      const bytes = parseSize(value);
      if (bytes === undefined) {
        throw new UsageError(`The ${source} takes a size such as 500M or 10G`);
      }
      return bytes;
    }
    case "duration": {
      const millis = parseDuration(value);
      if (millis === undefined) {
        throw new UsageError(`The ${source} takes a duration such as 500ms, 2s or 7d`);
      }
      return millis;
    }
    default:
      if (spec.choices !== undefined && !spec.choices.includes(value)) {
        throw new UsageError(`The ${source} takes ${spec.choices.join(" or ")}`);
      }
      return value;
  }
}

function findFlag(name: string): FlagSpec | undefined {
  return FLAGS.find((spec) => spec.name === name || (spec.aliases ?? []).includes(name));
}

function parseBoolean(value: string, source: string): boolean {
  switch (value.toLowerCase()) {
    case "1":
    case "true":
    case "yes":
    case "on":
      return true;
    case "0":
    case "false":
    case "no":
    case "off":
      return false;
    default:
      throw new UsageError(`The ${source} takes true or false`);
  }
}
