/**
 * Command-line flags and their environment-variable fallbacks. Parsing is pure: the
 * environment is passed in, so it can be tested and so that nothing is read that the
 * process has no permission for.
 *
 * Flags are accepted as `--name value`, `--name=value`, and with one dash (`-name`),
 * which is how the seed program (yonesko/gocacheprog, Go's `flag` package) spells them.
 * A flag given on the command line wins over its environment variable.
 *
 * @module
 */

/** The kinds of value a flag takes. */
export type FlagKind = "string" | "boolean";

/** One flag's definition. */
export interface FlagSpec {
  /** The long name, used as `--name`. */
  name: string;
  /** Other accepted names, such as the seed's spellings. */
  aliases: readonly string[];
  /** The value's kind. */
  kind: FlagKind;
  /** The environment variable read when the flag is absent. */
  env?: string;
  /** What to call the value in `--help`. */
  valueName?: string;
  /** One line for `--help`. */
  description: string;
}

/** Every flag this program takes, in the order `--help` lists them. */
export const FLAGS: readonly FlagSpec[] = [
  {
    name: "dir",
    aliases: [],
    kind: "string",
    env: "GOCACHEPROG_DIR",
    valueName: "DIR",
    description: "cache directory, in the go command's GOCACHE layout (default: $GOCACHE)",
  },
  {
    name: "log-metrics",
    aliases: [],
    kind: "boolean",
    env: "GOCACHEPROG_LOG_METRICS",
    description: "print a summary of gets, hits, misses, puts, bytes and time at exit",
  },
  {
    name: "log-req",
    aliases: ["log-requests"],
    kind: "boolean",
    env: "GOCACHEPROG_LOG_REQ",
    description: "print one line per request to stderr (never the body)",
  },
  {
    name: "log-resp",
    aliases: ["log-responses"],
    kind: "boolean",
    env: "GOCACHEPROG_LOG_RESP",
    description: "print one line per response to stderr",
  },
  { name: "help", aliases: ["h"], kind: "boolean", description: "show this help and exit" },
  { name: "version", aliases: [], kind: "boolean", description: "print the version and exit" },
];

/** The environment variables this program may read, for `--allow-env`. */
export const ENV_VARIABLES: readonly string[] = [
  "GOCACHE",
  ...FLAGS.flatMap((flag) => flag.env === undefined ? [] : [flag.env]),
];

/** The parsed configuration. */
export interface Config {
  /** The cache directory: `--dir`, else `GOCACHEPROG_DIR`, else `GOCACHE`. */
  dir?: string;
  /** Print a summary at exit. */
  logMetrics: boolean;
  /** Print one line per request. */
  logRequests: boolean;
  /** Print one line per response. */
  logResponses: boolean;
  /** Show help and exit. */
  help: boolean;
  /** Print the version and exit. */
  version: boolean;
}

/** Reads an environment variable; `undefined` when unset or not readable. */
export type EnvReader = (name: string) => string | undefined;

/**
 * Parses the command line, falling back to environment variables.
 *
 * @param args The arguments after the program name.
 * @param env Reads environment variables.
 * @returns The configuration.
 * @throws {TypeError} On an unknown flag, a missing or malformed value, or an
 * unexpected argument; the message says which.
 */
export function parseConfig(args: readonly string[], env: EnvReader): Config {
  const values = new Map<string, string | boolean>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--" || !arg.startsWith("-") || arg === "-") {
      throw new TypeError(`Unexpected argument "${arg}"`);
    }
    const body = arg.replace(/^--?/, "");
    const equals = body.indexOf("=");
    const name = equals >= 0 ? body.slice(0, equals) : body;
    const spec = findFlag(name);
    if (spec === undefined) throw new TypeError(`Unknown flag "${arg}"`);
    if (spec.kind === "boolean") {
      values.set(
        spec.name,
        equals >= 0 ? parseBoolean(body.slice(equals + 1), `flag -${name}`) : true,
      );
      continue;
    }
    let value: string;
    if (equals >= 0) {
      value = body.slice(equals + 1);
    } else {
      const next = args[i + 1];
      if (next === undefined) throw new TypeError(`Flag "${arg}" needs a value`);
      value = next;
      i++;
    }
    if (value === "") throw new TypeError(`Flag "${arg}" needs a non-empty value`);
    values.set(spec.name, value);
  }
  for (const spec of FLAGS) {
    if (values.has(spec.name) || spec.env === undefined) continue;
    const value = env(spec.env);
    if (value === undefined || value === "") continue;
    values.set(spec.name, spec.kind === "boolean" ? parseBoolean(value, spec.env) : value);
  }
  const config: Config = {
    logMetrics: values.get("log-metrics") === true,
    logRequests: values.get("log-req") === true,
    logResponses: values.get("log-resp") === true,
    help: values.get("help") === true,
    version: values.get("version") === true,
  };
  const dir = values.get("dir") ?? env("GOCACHE");
  if (typeof dir === "string" && dir !== "") config.dir = dir;
  return config;
}

/**
 * Resolves the cache directory to an absolute path.
 *
 * @param config The parsed configuration.
 * @param cwd Returns the working directory; only called for a relative path.
 * @returns The absolute directory.
 * @throws {TypeError} If no directory is configured, or `GOCACHE` is `off`.
 */
export function resolveCacheDir(config: Config, cwd: () => string): string {
  const dir = config.dir;
  if (dir === undefined) {
    throw new TypeError(
      "No cache directory: pass --dir DIR or set GOCACHEPROG_DIR (the go command sets GOCACHE " +
        "for the programs it starts; with deno run, allow reading it with --allow-env=GOCACHE)",
    );
  }
  if (dir === "off") throw new TypeError('The cache directory cannot be "off"');
  const absolute = dir.startsWith("/") ? dir : `${cwd()}/${dir}`;
  return absolute.length > 1 ? absolute.replace(/\/+$/, "") : absolute;
}

/**
 * The text of `--help`.
 *
 * @param version The program's version.
 * @returns The help text, ending in a newline.
 */
export function usage(version: string): string {
  const lines = [
    `gocacheprog ${version}: a GOCACHEPROG build cache for the go command`,
    "",
    "Usage:",
    '  GOCACHEPROG="gocacheprog [flags]" go build ./...',
    "",
    "Flags (one or two dashes; every flag also reads the environment variable shown):",
  ];
  for (const spec of FLAGS) {
    const names = [spec.name, ...spec.aliases].map((name) => `--${name}`).join(", ");
    const left = `  ${names}${spec.valueName === undefined ? "" : ` ${spec.valueName}`}`;
    lines.push(
      left,
      `        ${spec.description}${spec.env === undefined ? "" : ` [$${spec.env}]`}`,
    );
  }
  lines.push(
    "",
    "With no flags it stores the cache in $GOCACHE, in the go command's own layout.",
    "",
  );
  return lines.join("\n");
}

function findFlag(name: string): FlagSpec | undefined {
  return FLAGS.find((spec) => spec.name === name || spec.aliases.includes(name));
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
      throw new TypeError(`${source} takes true or false, not "${value}"`);
  }
}
