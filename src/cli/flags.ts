/**
 * Every flag, in one table from which everything else is derived: the parser, the
 * environment variables the program may read, `--help`, and (checked by a test) the
 * README's flags table. Each row holds the flag's names, its environment variable, the
 * setting it fills, the kind of value it takes, its default, and its help text.
 *
 * Defaults are not written here but imported from the modules that own them, so that
 * each is defined once; `--help` prints them from the same values.
 *
 * @module
 */

import { DEFAULT_CONNECT_TIMEOUT_MILLIS, DEFAULT_REMOTE_TIMEOUT_MILLIS } from "../store.ts";
import { DEFAULT_REDIS_TTL_MILLIS, DEFAULT_SENTINEL_NAME } from "../redis/defaults.ts";
import { DEFAULT_PREFETCH_MAX_BYTES, DEFAULT_UPLOAD_WAIT_MILLIS } from "../tiered/defaults.ts";
import { DEFAULT_TRIM_AGE_MILLIS } from "../local/trim.ts";

/**
 * The kinds of value a flag takes: text, a switch, a list (the flag may be repeated and
 * each value may hold several items separated by commas), a duration (`500ms`, `2s`,
 * `30m`, `1h`, `7d`; a bare number is seconds), or a size (`500M`, `10G`; a bare number
 * is bytes).
 */
export type FlagKind = "string" | "boolean" | "list" | "duration" | "size";

/** The settings the flags give, one field per flag. Durations are in milliseconds. */
export interface Settings {
  /** The cache directory: `--dir`, else `GOCACHEPROG_DIR`, else `GOCACHE`. */
  dir?: string;
  /** Print a summary at exit. */
  logMetrics: boolean;
  /** Print one line per request. */
  logRequests: boolean;
  /** Print one line per response. */
  logResponses: boolean;
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
  /** Entry lifetime in Redis after last use. */
  redisTtlMillis: number;
  /** Deadline for one Redis operation. */
  redisTimeoutMillis: number;
  /** How long connecting may take, in the background. */
  redisConnectTimeoutMillis: number;
  /** How long to wait for pending uploads at exit. */
  uploadWaitMillis: number;
  /** Never write to Redis. */
  readOnly: boolean;
  /** Compression of bodies in Redis. */
  compress: "none" | "zstd";
  /** Where to append per-command metrics. */
  metricsFile?: string;
  /** Local entries unused for this long are trimmed; 0 turns trimming off. */
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
  /** Show help and exit. */
  help: boolean;
  /** Print the version and exit. */
  version: boolean;
}

/** The kind of flag that can fill a setting of type `V`. */
type KindFor<V> = V extends boolean ? "boolean"
  : V extends string ? "string"
  : V extends readonly string[] ? "list"
  : V extends number ? "duration" | "size"
  : never;

/** One flag's row of the table. */
export interface FlagSpec<K extends keyof Settings = keyof Settings> {
  /** The setting it fills. */
  key: K;
  /** The long name, used as `--name`. */
  name: string;
  /** Other accepted names, such as the seed's spellings. */
  aliases?: readonly string[];
  /** The value's kind. */
  kind: KindFor<NonNullable<Settings[K]>>;
  /** The environment variable read when the flag is absent. */
  env?: string;
  /** Another environment variable read when neither the flag nor `env` is set. */
  envFallback?: string;
  /** The accepted values, for a flag that takes one of a few words. */
  choices?: readonly string[];
  /** The value when the flag and its variables are absent; lists default to empty. */
  default?: Settings[K];
  /** How `--help` and the README name a default that is not a plain value. */
  defaultText?: string;
  /** What to call the value in `--help`. */
  valueName?: string;
  /** One line for `--help`. */
  description: string;
}

function flag<K extends keyof Settings>(spec: FlagSpec<K>): FlagSpec<K> {
  return spec;
}

/** Every flag this program takes, in the order `--help` lists them. */
export const FLAGS: readonly FlagSpec[] = [
  flag({
    key: "dir",
    name: "dir",
    kind: "string",
    env: "GOCACHEPROG_DIR",
    envFallback: "GOCACHE",
    defaultText: "$GOCACHE",
    valueName: "DIR",
    description: "cache directory, in the go command's GOCACHE layout",
  }),
  flag({
    key: "logMetrics",
    name: "log-metrics",
    kind: "boolean",
    env: "GOCACHEPROG_LOG_METRICS",
    description: "print a summary of gets, hits, misses, puts, bytes and time at exit",
  }),
  flag({
    key: "logRequests",
    name: "log-req",
    aliases: ["log-requests"],
    kind: "boolean",
    env: "GOCACHEPROG_LOG_REQ",
    description: "print one line per request to stderr (never the body)",
  }),
  flag({
    key: "logResponses",
    name: "log-resp",
    aliases: ["log-responses"],
    kind: "boolean",
    env: "GOCACHEPROG_LOG_RESP",
    description: "print one line per response to stderr, with its duration",
  }),
  flag({
    key: "redisUrls",
    name: "redis-url",
    aliases: ["r-urls"],
    kind: "list",
    env: "GOCACHEPROG_REDIS_URL",
    defaultText: "none: local only",
    valueName: "URL",
    description:
      "Redis to share the cache through: host:port, redis://[user:password@]host:port[/db] " +
      "or rediss:// for TLS; repeat or separate with commas; several addresses mean a Redis Cluster",
  }),
  flag({
    key: "redisSentinels",
    name: "redis-sentinel",
    kind: "list",
    env: "GOCACHEPROG_REDIS_SENTINEL",
    valueName: "HOST:PORT",
    description: "Redis Sentinel addresses (with --redis-sentinel-name) instead of --redis-url",
  }),
  flag({
    key: "redisSentinelName",
    name: "redis-sentinel-name",
    kind: "string",
    env: "GOCACHEPROG_REDIS_SENTINEL_NAME",
    default: DEFAULT_SENTINEL_NAME,
    valueName: "NAME",
    description: "the Sentinel master group's name",
  }),
  flag({
    key: "redisUser",
    name: "redis-user",
    aliases: ["r-usr"],
    kind: "string",
    env: "GOCACHEPROG_REDIS_USER",
    valueName: "USER",
    description: "Redis ACL user name",
  }),
  flag({
    key: "redisPassword",
    name: "redis-password",
    aliases: ["r-pwd"],
    kind: "string",
    env: "GOCACHEPROG_REDIS_PASSWORD",
    valueName: "PASSWORD",
    description: "Redis password; prefer the environment variable or --redis-password-file: the " +
      "GOCACHEPROG string shows in `go env` and in process lists",
  }),
  flag({
    key: "redisPasswordFile",
    name: "redis-password-file",
    kind: "string",
    env: "GOCACHEPROG_REDIS_PASSWORD_FILE",
    valueName: "FILE",
    description: "read the Redis password from this file (its first line)",
  }),
  flag({
    key: "redisPrefix",
    name: "redis-prefix",
    aliases: ["r-prefix"],
    kind: "string",
    env: "GOCACHEPROG_REDIS_PREFIX",
    default: "",
    defaultText: "none",
    valueName: "PREFIX",
    description: "namespace for the keys, for example one per project or trust domain",
  }),
  flag({
    key: "redisTlsCa",
    name: "redis-tls-ca",
    kind: "string",
    env: "GOCACHEPROG_REDIS_TLS_CA",
    valueName: "FILE",
    description: "CA certificate (PEM) to verify the Redis server with; implies TLS",
  }),
  flag({
    key: "redisTlsCert",
    name: "redis-tls-cert",
    kind: "string",
    env: "GOCACHEPROG_REDIS_TLS_CERT",
    valueName: "FILE",
    description: "client certificate (PEM) for mutual TLS; implies TLS",
  }),
  flag({
    key: "redisTlsKey",
    name: "redis-tls-key",
    kind: "string",
    env: "GOCACHEPROG_REDIS_TLS_KEY",
    valueName: "FILE",
    description: "client private key (PEM) for mutual TLS",
  }),
  flag({
    key: "redisTtlMillis",
    name: "redis-ttl",
    kind: "duration",
    env: "GOCACHEPROG_REDIS_TTL",
    default: DEFAULT_REDIS_TTL_MILLIS,
    valueName: "DURATION",
    description: "how long an entry lives in Redis after its last use",
  }),
  flag({
    key: "redisTimeoutMillis",
    name: "redis-timeout",
    kind: "duration",
    env: "GOCACHEPROG_REDIS_TIMEOUT",
    default: DEFAULT_REMOTE_TIMEOUT_MILLIS,
    valueName: "DURATION",
    description: "how long a Redis operation may go without a byte moving (big transfers are " +
      "also given 1 s per MB); and how long a get waits for connecting",
  }),
  flag({
    key: "redisConnectTimeoutMillis",
    name: "redis-connect-timeout",
    kind: "duration",
    env: "GOCACHEPROG_REDIS_CONNECT_TIMEOUT",
    default: DEFAULT_CONNECT_TIMEOUT_MILLIS,
    valueName: "DURATION",
    description: "how long connecting to a Redis Cluster or Sentinel may take (loading the " +
      "client, discovering the nodes), in the background while builds go on from local disk; " +
      "uploads wait for it",
  }),
  flag({
    key: "uploadWaitMillis",
    name: "upload-wait",
    kind: "duration",
    env: "GOCACHEPROG_UPLOAD_WAIT",
    default: DEFAULT_UPLOAD_WAIT_MILLIS,
    valueName: "DURATION",
    description: "at exit, how long to wait for uploads still running",
  }),
  flag({
    key: "readOnly",
    name: "read-only",
    kind: "boolean",
    env: "GOCACHEPROG_READ_ONLY",
    description: "read from Redis but never write to it (for untrusted jobs)",
  }),
  flag({
    key: "compress",
    name: "compress",
    kind: "string",
    env: "GOCACHEPROG_COMPRESS",
    choices: ["none", "zstd"],
    default: "none",
    valueName: "none|zstd",
    description: "compression of the bodies stored in Redis; local files stay plain",
  }),
  flag({
    key: "metricsFile",
    name: "metrics-file",
    kind: "string",
    env: "GOCACHEPROG_METRICS_FILE",
    defaultText: "none",
    valueName: "FILE",
    description: "append one JSON line of metrics per go command to FILE (for `gocacheprog stats`)",
  }),
  flag({
    key: "trimAgeMillis",
    name: "trim-age",
    kind: "duration",
    env: "GOCACHEPROG_TRIM_AGE",
    default: DEFAULT_TRIM_AGE_MILLIS,
    valueName: "DURATION",
    description: "remove local entries unused for this long, once a day; 0 turns trimming off",
  }),
  flag({
    key: "maxSizeBytes",
    name: "max-size",
    kind: "size",
    env: "GOCACHEPROG_MAX_SIZE",
    defaultText: "none",
    valueName: "SIZE",
    description: "also remove the least recently used local entries beyond this size (such as 10G)",
  }),
  flag({
    key: "clearLocal",
    name: "local",
    kind: "boolean",
    description: "with `clear`: empty the local store",
  }),
  flag({
    key: "clearRemote",
    name: "remote",
    kind: "boolean",
    description: "with `clear`: delete the keys under the prefix in Redis (nothing else)",
  }),
  flag({
    key: "buildType",
    name: "build-type",
    kind: "string",
    env: "GOCACHEPROG_BUILD_TYPE",
    defaultText: "CI job name",
    valueName: "NAME",
    description: "the kind of build whose manifests are read and written",
  }),
  flag({
    key: "manifestScope",
    name: "manifest-scope",
    kind: "string",
    env: "GOCACHEPROG_MANIFEST_SCOPE",
    defaultText: "from CI",
    valueName: "SCOPE",
    description: "this build's manifest scope: mr:<iid>, pr:<n> or ref:<branch>",
  }),
  flag({
    key: "manifestBase",
    name: "manifest-base",
    kind: "string",
    env: "GOCACHEPROG_MANIFEST_BASE",
    defaultText: "from CI",
    valueName: "BRANCH",
    description: "the branch a merge or pull request targets",
  }),
  flag({
    key: "manifestDefault",
    name: "manifest-default",
    kind: "string",
    env: "GOCACHEPROG_MANIFEST_DEFAULT",
    defaultText: "from CI, else main",
    valueName: "BRANCH",
    description: "the default branch",
  }),
  flag({
    key: "manifest",
    name: "manifest",
    kind: "boolean",
    env: "GOCACHEPROG_MANIFEST",
    defaultText: "on in CI",
    description: "write build manifests outside CI too (so do --manifest-scope and --build-type)",
  }),
  flag({
    key: "prefetchMaxBytes",
    name: "prefetch-max-bytes",
    kind: "size",
    env: "GOCACHEPROG_PREFETCH_MAX_BYTES",
    default: DEFAULT_PREFETCH_MAX_BYTES,
    valueName: "SIZE",
    description: "prefetch at most this much from build manifests; 0 turns prefetching off",
  }),
  flag({
    key: "speculate",
    name: "speculate",
    kind: "boolean",
    env: "GOCACHEPROG_SPECULATE",
    default: true,
    description: "fetch a compile's stdout companion in the same round trip",
  }),
  flag({
    key: "help",
    name: "help",
    aliases: ["h"],
    kind: "boolean",
    description: "show this help and exit",
  }),
  flag({
    key: "version",
    name: "version",
    kind: "boolean",
    description: "print the version and exit",
  }),
];

/** The environment variables this program may read: every flag's, and their fallbacks. */
export const ENV_VARIABLES: readonly string[] = [
  ...new Set(
    FLAGS.flatMap((spec) =>
      [spec.env, spec.envFallback].filter((name): name is string => name !== undefined)
    ),
  ),
];

/**
 * How `--help` and the README state a flag's default: its `defaultText`, else its
 * default value in the flag's own syntax (`7d`, `4G`), else `off` for a switch.
 *
 * @param spec The flag.
 * @returns The default's text, or `undefined` when the flag has none to state.
 */
export function defaultLabel(spec: FlagSpec): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const value = spec.default;
  switch (spec.kind) {
    case "boolean":
      return value === true ? "on" : "off";
    case "duration":
      return typeof value === "number" ? formatDuration(value) : undefined;
    case "size":
      return typeof value === "number" ? formatSize(value) : undefined;
    default:
      return typeof value === "string" && value !== "" ? value : undefined;
  }
}

const DURATION_UNITS: readonly [string, number][] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
  ["ms", 1],
];

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
  const unit = DURATION_UNITS.find(([name]) => name === (match[2] ?? "s"))![1];
  return Math.round(Number(match[1]) * unit);
}

/**
 * Formats a duration in the largest unit that divides it: `7d`, `1s`, `250ms`.
 *
 * @param millis The duration in milliseconds.
 * @returns The text {@linkcode parseDuration} reads back.
 */
export function formatDuration(millis: number): string {
  const [name, size] = DURATION_UNITS.find(([, size]) => millis % size === 0 && millis >= size) ??
    ["ms", 1];
  return `${millis / size}${name}`;
}

const SIZE_UNITS = "KMGT";

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
  const unit = match[2]!.toUpperCase();
  const power = unit === "" ? 0 : SIZE_UNITS.indexOf(unit) + 1;
  return Math.round(Number(match[1]) * 1024 ** power);
}

/**
 * Formats a size in the largest unit that divides it: `4G`, `512M`, `100`.
 *
 * @param bytes The size in bytes.
 * @returns The text {@linkcode parseSize} reads back.
 */
export function formatSize(bytes: number): string {
  for (let power = SIZE_UNITS.length; power > 0; power--) {
    const unit = 1024 ** power;
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${SIZE_UNITS[power - 1]}`;
  }
  return String(bytes);
}
