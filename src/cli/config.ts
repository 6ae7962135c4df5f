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

import { CI_ENV_VARIABLES } from "../tiered/manifest.ts";

/**
 * The kinds of value a flag takes: text, a switch, a list (the flag may be repeated and
 * each value may hold several items separated by commas), or a duration (`500ms`, `2s`,
 * `30m`, `1h`, `7d`; a bare number is seconds), or a size (`500M`, `10G`; a bare number is
 * bytes).
 */
export type FlagKind = "string" | "boolean" | "list" | "duration" | "size";

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
  {
    name: "redis-url",
    aliases: ["r-urls"],
    kind: "list",
    env: "GOCACHEPROG_REDIS_URL",
    valueName: "URL",
    description:
      "Redis to share the cache through: host:port, redis://[user:password@]host:port[/db] " +
      "or rediss:// for TLS; repeat or separate with commas; several addresses mean a Redis Cluster",
  },
  {
    name: "redis-sentinel",
    aliases: [],
    kind: "list",
    env: "GOCACHEPROG_REDIS_SENTINEL",
    valueName: "HOST:PORT",
    description: "Redis Sentinel addresses (with --redis-sentinel-name) instead of --redis-url",
  },
  {
    name: "redis-sentinel-name",
    aliases: [],
    kind: "string",
    env: "GOCACHEPROG_REDIS_SENTINEL_NAME",
    valueName: "NAME",
    description: "the Sentinel master group's name (default mymaster)",
  },
  {
    name: "redis-user",
    aliases: ["r-usr"],
    kind: "string",
    env: "GOCACHEPROG_REDIS_USER",
    valueName: "USER",
    description: "Redis ACL user name",
  },
  {
    name: "redis-password",
    aliases: ["r-pwd"],
    kind: "string",
    env: "GOCACHEPROG_REDIS_PASSWORD",
    valueName: "PASSWORD",
    description: "Redis password; prefer the environment variable or --redis-password-file: the " +
      "GOCACHEPROG string shows in `go env` and in process lists",
  },
  {
    name: "redis-password-file",
    aliases: [],
    kind: "string",
    env: "GOCACHEPROG_REDIS_PASSWORD_FILE",
    valueName: "FILE",
    description: "read the Redis password from this file (its first line)",
  },
  {
    name: "redis-prefix",
    aliases: ["r-prefix"],
    kind: "string",
    env: "GOCACHEPROG_REDIS_PREFIX",
    valueName: "PREFIX",
    description: "namespace for the keys, for example one per project or trust domain",
  },
  {
    name: "redis-tls-ca",
    aliases: [],
    kind: "string",
    env: "GOCACHEPROG_REDIS_TLS_CA",
    valueName: "FILE",
    description: "CA certificate (PEM) to verify the Redis server with; implies TLS",
  },
  {
    name: "redis-tls-cert",
    aliases: [],
    kind: "string",
    env: "GOCACHEPROG_REDIS_TLS_CERT",
    valueName: "FILE",
    description: "client certificate (PEM) for mutual TLS; implies TLS",
  },
  {
    name: "redis-tls-key",
    aliases: [],
    kind: "string",
    env: "GOCACHEPROG_REDIS_TLS_KEY",
    valueName: "FILE",
    description: "client private key (PEM) for mutual TLS",
  },
  {
    name: "redis-ttl",
    aliases: [],
    kind: "duration",
    env: "GOCACHEPROG_REDIS_TTL",
    valueName: "DURATION",
    description: "how long an entry lives in Redis after its last use (default 7d)",
  },
  {
    name: "redis-timeout",
    aliases: [],
    kind: "duration",
    env: "GOCACHEPROG_REDIS_TIMEOUT",
    valueName: "DURATION",
    description: "deadline for one Redis operation, and for connecting (default 1s)",
  },
  {
    name: "upload-wait",
    aliases: [],
    kind: "duration",
    env: "GOCACHEPROG_UPLOAD_WAIT",
    valueName: "DURATION",
    description: "at exit, how long to wait for uploads still running (default 5s)",
  },
  {
    name: "read-only",
    aliases: [],
    kind: "boolean",
    env: "GOCACHEPROG_READ_ONLY",
    description: "read from Redis but never write to it (for untrusted jobs)",
  },
  {
    name: "compress",
    aliases: [],
    kind: "string",
    env: "GOCACHEPROG_COMPRESS",
    valueName: "none|zstd",
    description: "compression of the bodies stored in Redis (default none); local files stay plain",
  },
  {
    name: "metrics-file",
    aliases: [],
    kind: "string",
    env: "GOCACHEPROG_METRICS_FILE",
    valueName: "FILE",
    description: "append one JSON line of metrics per go command to FILE (for `gocacheprog stats`)",
  },
  {
    name: "trim-age",
    aliases: [],
    kind: "duration",
    env: "GOCACHEPROG_TRIM_AGE",
    valueName: "DURATION",
    description:
      "remove local entries unused for this long, once a day (default 5d; 0 turns trimming off)",
  },
  {
    name: "max-size",
    aliases: [],
    kind: "size",
    env: "GOCACHEPROG_MAX_SIZE",
    valueName: "SIZE",
    description: "also remove the least recently used local entries beyond this size (such as 10G)",
  },
  {
    name: "local",
    aliases: [],
    kind: "boolean",
    description: "with `clear`: empty the local store",
  },
  {
    name: "remote",
    aliases: [],
    kind: "boolean",
    description: "with `clear`: delete the keys under the prefix in Redis (nothing else)",
  },
  {
    name: "build-type",
    aliases: [],
    kind: "string",
    env: "GOCACHEPROG_BUILD_TYPE",
    valueName: "NAME",
    description: "the kind of build, for build manifests (default: the CI job's name)",
  },
  {
    name: "manifest-scope",
    aliases: [],
    kind: "string",
    env: "GOCACHEPROG_MANIFEST_SCOPE",
    valueName: "SCOPE",
    description: "this build's manifest scope (default from CI: mr:<iid>, pr:<n> or ref:<branch>)",
  },
  {
    name: "manifest-base",
    aliases: [],
    kind: "string",
    env: "GOCACHEPROG_MANIFEST_BASE",
    valueName: "BRANCH",
    description: "the branch a merge or pull request targets (default from CI)",
  },
  {
    name: "manifest-default",
    aliases: [],
    kind: "string",
    env: "GOCACHEPROG_MANIFEST_DEFAULT",
    valueName: "BRANCH",
    description: "the default branch (default from CI, else main)",
  },
  {
    name: "manifest",
    aliases: [],
    kind: "boolean",
    env: "GOCACHEPROG_MANIFEST",
    description: "write build manifests even outside CI (in CI they are written by default)",
  },
  {
    name: "speculate",
    aliases: [],
    kind: "boolean",
    env: "GOCACHEPROG_SPECULATE",
    description: "fetch a compile's stdout companion in the same round trip (default true)",
  },
  {
    name: "prefetch-max-bytes",
    aliases: [],
    kind: "size",
    env: "GOCACHEPROG_PREFETCH_MAX_BYTES",
    valueName: "SIZE",
    description:
      "prefetch at most this much from build manifests (default 4G; 0 turns prefetching off)",
  },
  { name: "help", aliases: ["h"], kind: "boolean", description: "show this help and exit" },
  { name: "version", aliases: [], kind: "boolean", description: "print the version and exit" },
];

/**
 * The `--allow-env` value for the disk-only mode: `GOCACHE` and every variable of ours
 * (Deno accepts a trailing `*`), and nothing else.
 */
export const ENV_PERMISSION = "GOCACHE,GOCACHEPROG_*";

/**
 * The `--allow-env` value for Redis mode with a standalone server: the program's own
 * variables and the CI variables that name the build's manifests. A Cluster or Sentinel
 * needs the whole environment instead, because ioredis reads all of it when it loads.
 */
export const REDIS_ENV_PERMISSION = [ENV_PERMISSION, ...CI_ENV_VARIABLES].join(",");

/**
 * Whether the whole environment must be readable: only for a Cluster or Sentinel, which
 * load ioredis.
 *
 * @param redis The Redis addresses and Sentinel addresses configured.
 * @returns Whether `--allow-env` must be given without a list.
 */
export function needsWholeEnvironment(
  redis: { urls: readonly string[]; sentinels: readonly string[] },
): boolean {
  return redis.urls.length > 1 || redis.sentinels.length > 0;
}

/** The environment variables this program may read, for `--allow-env`. */
export const ENV_VARIABLES: readonly string[] = [
  "GOCACHE",
  ...FLAGS.flatMap((flag) => flag.env === undefined ? [] : [flag.env]),
];

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

/** The parsed configuration. */
export interface Config {
  /** The command; `serve` unless the first argument names another. */
  command: Command;
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
  /** Redis addresses; empty for a local-only cache. */
  redisUrls: string[];
  /** Redis Sentinel addresses. */
  redisSentinels: string[];
  /** The Sentinel master group's name. */
  redisSentinelName: string;
  /** Redis ACL user name. */
  redisUser?: string;
  /** Redis password, from the flag or the environment. */
  redisPassword?: string;
  /** Whether the password was given on the command line, where others can see it. */
  redisPasswordOnCommandLine: boolean;
  /** A file holding the Redis password. */
  redisPasswordFile?: string;
  /** The key namespace. */
  redisPrefix: string;
  /** TLS CA certificate file. */
  redisTlsCa?: string;
  /** TLS client certificate file. */
  redisTlsCert?: string;
  /** TLS client key file. */
  redisTlsKey?: string;
  /** Entry lifetime in Redis after last use, in milliseconds. */
  redisTtlMillis: number;
  /** Deadline for one Redis operation, in milliseconds. */
  redisTimeoutMillis: number;
  /** How long to wait for pending uploads at exit, in milliseconds. */
  uploadWaitMillis: number;
  /** Never write to Redis. */
  readOnly: boolean;
  /** Compression of bodies in Redis. */
  compress: "none" | "zstd";
  /** Where to append per-command metrics. */
  metricsFile?: string;
  /** Local entries unused for this long are trimmed, in milliseconds; 0 turns trimming off. */
  trimAgeMillis: number;
  /** Cap on the local store's size, in bytes. */
  maxSizeBytes?: number;
  /** `clear --local`. */
  clearLocal: boolean;
  /** `clear --remote`. */
  clearRemote: boolean;
  /** The build type for manifests. */
  buildType?: string;
  /** This build's manifest scope. */
  manifestScope?: string;
  /** The base branch for manifests. */
  manifestBase?: string;
  /** The default branch for manifests. */
  manifestDefault?: string;
  /** Write manifests even outside CI. */
  manifest: boolean;
  /** Prefetch at most this many bytes. */
  prefetchMaxBytes: number;
  /** Fetch stdout companions with their compiles. */
  speculate: boolean;
}

/** Five days, as the go command: local entries unused for longer are trimmed. */
export const DEFAULT_TRIM_AGE_MILLIS = 5 * 24 * 3600 * 1000;

/** Seven days: how long an unused entry stays in Redis unless `--redis-ttl` says otherwise. */
export const DEFAULT_REDIS_TTL_MILLIS = 7 * 24 * 3600 * 1000;

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
  const values = new Map<string, string | boolean | string[] | number>();
  const fromCommandLine = new Set<string>();
  let command: Command = "serve";
  let first = 0;
  if (args[0] !== undefined && !args[0].startsWith("-")) {
    if (!(args[0] in COMMANDS)) {
      throw new TypeError(
        `Unknown command "${args[0]}" (commands: ${Object.keys(COMMANDS).join(", ")})`,
      );
    }
    command = args[0] as Command;
    first = 1;
  }
  for (let i = first; i < args.length; i++) {
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
    fromCommandLine.add(spec.name);
    values.set(spec.name, parseValue(spec, value, `flag ${arg}`, values.get(spec.name)));
  }
  for (const spec of FLAGS) {
    if (values.has(spec.name) || spec.env === undefined) continue;
    const value = env(spec.env);
    if (value === undefined || value === "") continue;
    values.set(
      spec.name,
      spec.kind === "boolean"
        ? parseBoolean(value, spec.env)
        : parseValue(spec, value, spec.env, undefined),
    );
  }
  const text = (name: string): string | undefined => {
    const value = values.get(name);
    return typeof value === "string" ? value : undefined;
  };
  const list = (name: string): string[] => {
    const value = values.get(name);
    return Array.isArray(value) ? value : [];
  };
  const millis = (name: string, fallback: number): number => {
    const value = values.get(name);
    return typeof value === "number" ? value : fallback;
  };
  const compress = text("compress") ?? "none";
  if (compress !== "none" && compress !== "zstd") {
    throw new TypeError(`--compress takes none or zstd, not "${compress}"`);
  }
  const config: Config = {
    command,
    logMetrics: values.get("log-metrics") === true,
    logRequests: values.get("log-req") === true,
    logResponses: values.get("log-resp") === true,
    help: values.get("help") === true,
    version: values.get("version") === true,
    redisUrls: list("redis-url"),
    redisSentinels: list("redis-sentinel"),
    redisSentinelName: text("redis-sentinel-name") ?? "mymaster",
    redisPasswordOnCommandLine: fromCommandLine.has("redis-password"),
    redisPrefix: text("redis-prefix") ?? "",
    redisTtlMillis: millis("redis-ttl", DEFAULT_REDIS_TTL_MILLIS),
    redisTimeoutMillis: millis("redis-timeout", 1000),
    uploadWaitMillis: millis("upload-wait", 5000),
    readOnly: values.get("read-only") === true,
    compress,
    trimAgeMillis: millis("trim-age", DEFAULT_TRIM_AGE_MILLIS),
    clearLocal: values.get("local") === true,
    clearRemote: values.get("remote") === true,
    manifest: values.get("manifest") === true,
    speculate: values.get("speculate") !== false,
    prefetchMaxBytes: typeof values.get("prefetch-max-bytes") === "number"
      ? values.get("prefetch-max-bytes") as number
      : 4 * 1024 ** 3,
  };
  const maxSize = values.get("max-size");
  if (typeof maxSize === "number") config.maxSizeBytes = maxSize;
  for (
    const [key, name] of [
      ["redisUser", "redis-user"],
      ["redisPassword", "redis-password"],
      ["redisPasswordFile", "redis-password-file"],
      ["redisTlsCa", "redis-tls-ca"],
      ["redisTlsCert", "redis-tls-cert"],
      ["redisTlsKey", "redis-tls-key"],
      ["metricsFile", "metrics-file"],
      ["buildType", "build-type"],
      ["manifestScope", "manifest-scope"],
      ["manifestBase", "manifest-base"],
      ["manifestDefault", "manifest-default"],
    ] as const
  ) {
    const value = text(name);
    if (value !== undefined) config[key] = value;
  }
  if (config.redisTtlMillis < 1000) throw new TypeError("--redis-ttl must be at least 1s");
  if (
    command === "prefetch" && config.redisUrls.length === 0 && config.redisSentinels.length === 0
  ) {
    throw new TypeError("prefetch needs Redis: give --redis-url or --redis-sentinel");
  }
  if (command === "clear" && config.clearLocal === config.clearRemote) {
    throw new TypeError("clear takes exactly one of --local and --remote");
  }
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
    "  gocacheprog COMMAND [flags]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, text]) => `  ${name.padEnd(8)} ${text}`),
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

/**
 * Parses a duration: a number with a unit (`ms`, `s`, `m`, `h`, `d`), or a bare number
 * of seconds.
 *
 * @param text The duration.
 * @returns Milliseconds, or `undefined` if the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (match === null) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? "s"]!;
  return Math.round(Number(match[1]) * unit);
}

/**
 * Parses a size: a number with an optional unit (`K`, `M`, `G`, `T`, powers of 1024,
 * with or without a trailing `B` or `iB`), or a bare number of bytes.
 *
 * @param text The size.
 * @returns Bytes, or `undefined` if the text is not a size.
 */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (match === null) return undefined;
  const power = "KMGT".indexOf(match[2]!.toUpperCase()) + 1;
  return Math.round(Number(match[1]) * 1024 ** power);
}

function parseValue(
  spec: FlagSpec,
  value: string,
  source: string,
  previous: string | boolean | string[] | number | undefined,
): string | string[] | number {
  switch (spec.kind) {
    case "list": {
      const items = value.split(",").map((item) => item.trim()).filter((item) => item !== "");
      return [...(Array.isArray(previous) ? previous : []), ...items];
    }
    case "size": {
      const bytes = parseSize(value);
      if (bytes === undefined) {
        throw new TypeError(`${source} takes a size such as 500M or 10G, not "${value}"`);
      }
      return bytes;
    }
    case "duration": {
      const millis = parseDuration(value);
      if (millis === undefined) {
        throw new TypeError(`${source} takes a duration such as 500ms, 2s or 7d, not "${value}"`);
      }
      return millis;
    }
    default:
      return value;
  }
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
