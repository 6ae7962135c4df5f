/**
 * Every flag, in one table from which everything else is derived: the settings' type,
 * the parser, the environment variables the program may read, `--help`, and (checked by
 * a test) the README's flags table. Each row holds the flag's names, its environment variable, the
 * setting it fills, the kind of value it takes, its default, and its help text.
 *
 * Defaults are not written here but imported from the modules that own them, so that
 * each is defined once; `--help` prints them from the same values.
 *
 * @module
 */

import { DEFAULT_CONNECT_TIMEOUT_MILLIS, DEFAULT_REMOTE_TIMEOUT_MILLIS } from "../store.ts";
import { DEFAULT_REDIS_TTL_MILLIS, DEFAULT_SENTINEL_NAME } from "../redis/defaults.ts";
import {
  DEFAULT_FLEET_WAIT_MILLIS,
  DEFAULT_PREFETCH_MAX_BYTES,
  DEFAULT_UPLOAD_WAIT_MILLIS,
} from "../tiered/defaults.ts";
import { DEFAULT_TRIM_AGE_MILLIS } from "../local/trim.ts";

/**
 * The kinds of value a flag takes: text, a switch, a list (the flag may be repeated and
 * each value may hold several items separated by commas), a duration or a size (see
 * `units.ts`).
 */
export type FlagKind = "string" | "boolean" | "list" | "duration" | "size";

/** One flag's row of the table. */
export interface FlagSpec {
  /** The setting it fills, named in camel case. */
  key: string;
  /** The long name, used as `--name`. */
  name: string;
  /** Other accepted names, such as the seed's spellings. */
  aliases?: readonly string[];
  /** The value's kind. */
  kind: FlagKind;
  /** The environment variable read when the flag is absent. */
  env?: string;
  /** Another environment variable read when neither the flag nor `env` is set. */
  envFallback?: string;
  /** The accepted values, for a flag that takes one of a few words. */
  choices?: readonly string[];
  /** The value when the flag and its variables are absent; lists default to empty. */
  default?: string | number | boolean;
  /** How `--help` and the README name a default that is not a plain value. */
  defaultText?: string;
  /** What to call the value in `--help`. */
  valueName?: string;
  /** One line for `--help`. */
  description: string;
}

/** The table, with the literal types that {@linkcode Settings} is derived from. */
const FLAG_ROWS = [
  {
    key: "dir",
    name: "dir",
    kind: "string",
    env: "GOCACHEPROG_DIR",
    envFallback: "GOCACHE",
    defaultText: "$GOCACHE",
    valueName: "DIR",
    description: "cache directory, in the go command's GOCACHE layout",
  },
  {
    key: "logMetrics",
    name: "log-metrics",
    kind: "boolean",
    env: "GOCACHEPROG_LOG_METRICS",
    description: "print a summary of gets, hits, misses, puts, bytes and time at exit",
  },
  {
    key: "logRequests",
    name: "log-req",
    aliases: ["log-requests"],
    kind: "boolean",
    env: "GOCACHEPROG_LOG_REQ",
    description: "print one line per request to stderr (never the body)",
  },
  {
    key: "logResponses",
    name: "log-resp",
    aliases: ["log-responses"],
    kind: "boolean",
    env: "GOCACHEPROG_LOG_RESP",
    description: "print one line per response to stderr, with its duration",
  },
  {
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
  },
  {
    key: "redisSentinels",
    name: "redis-sentinel",
    kind: "list",
    env: "GOCACHEPROG_REDIS_SENTINEL",
    valueName: "HOST:PORT",
    description: "Redis Sentinel addresses (with --redis-sentinel-name) instead of --redis-url",
  },
  {
    key: "redisSentinelName",
    name: "redis-sentinel-name",
    kind: "string",
    env: "GOCACHEPROG_REDIS_SENTINEL_NAME",
    default: DEFAULT_SENTINEL_NAME,
    valueName: "NAME",
    description: "the Sentinel master group's name",
  },
  {
    key: "redisUser",
    name: "redis-user",
    aliases: ["r-usr"],
    kind: "string",
    env: "GOCACHEPROG_REDIS_USER",
    valueName: "USER",
    description: "Redis ACL user name",
  },
  {
    key: "redisPassword",
    name: "redis-password",
    aliases: ["r-pwd"],
    kind: "string",
    env: "GOCACHEPROG_REDIS_PASSWORD",
    valueName: "PASSWORD",
    description: "Redis password; prefer the environment variable or --redis-password-file: the " +
      "GOCACHEPROG string shows in `go env` and in process lists",
  },
  {
    key: "redisPasswordFile",
    name: "redis-password-file",
    kind: "string",
    env: "GOCACHEPROG_REDIS_PASSWORD_FILE",
    valueName: "FILE",
    description: "read the Redis password from this file (its first line)",
  },
  {
    key: "redisPrefix",
    name: "redis-prefix",
    aliases: ["r-prefix"],
    kind: "string",
    env: "GOCACHEPROG_REDIS_PREFIX",
    default: "",
    defaultText: "none",
    valueName: "PREFIX",
    description: "namespace for the keys, for example one per project or trust domain (no { or })",
  },
  {
    key: "redisTlsCa",
    name: "redis-tls-ca",
    kind: "string",
    env: "GOCACHEPROG_REDIS_TLS_CA",
    valueName: "FILE",
    description: "CA certificate (PEM) to verify the Redis server with; implies TLS",
  },
  {
    key: "redisTlsCert",
    name: "redis-tls-cert",
    kind: "string",
    env: "GOCACHEPROG_REDIS_TLS_CERT",
    valueName: "FILE",
    description: "client certificate (PEM) for mutual TLS; implies TLS",
  },
  {
    key: "redisTlsKey",
    name: "redis-tls-key",
    kind: "string",
    env: "GOCACHEPROG_REDIS_TLS_KEY",
    valueName: "FILE",
    description: "client private key (PEM) for mutual TLS",
  },
  {
    key: "redisTtlMillis",
    name: "redis-ttl",
    kind: "duration",
    env: "GOCACHEPROG_REDIS_TTL",
    default: DEFAULT_REDIS_TTL_MILLIS,
    valueName: "DURATION",
    description: "how long an entry lives in Redis after its last use",
  },
  {
    key: "redisTimeoutMillis",
    name: "redis-timeout",
    kind: "duration",
    env: "GOCACHEPROG_REDIS_TIMEOUT",
    default: DEFAULT_REMOTE_TIMEOUT_MILLIS,
    valueName: "DURATION",
    description: "how long a Redis operation may go without a byte moving (big transfers are " +
      "also given 1 s per MB); and how long a get waits for connecting",
  },
  {
    key: "redisConnectTimeoutMillis",
    name: "redis-connect-timeout",
    kind: "duration",
    env: "GOCACHEPROG_REDIS_CONNECT_TIMEOUT",
    default: DEFAULT_CONNECT_TIMEOUT_MILLIS,
    valueName: "DURATION",
    description: "how long connecting to a Redis Cluster or Sentinel may take (loading the " +
      "client, discovering the nodes), in the background while builds go on from local disk; " +
      "uploads wait for it",
  },
  {
    key: "uploadWaitMillis",
    name: "upload-wait",
    kind: "duration",
    env: "GOCACHEPROG_UPLOAD_WAIT",
    default: DEFAULT_UPLOAD_WAIT_MILLIS,
    valueName: "DURATION",
    description: "at exit, how long to wait for uploads still running",
  },
  {
    key: "fleetWaitMillis",
    name: "fleet-wait",
    kind: "duration",
    env: "GOCACHEPROG_FLEET_WAIT",
    default: DEFAULT_FLEET_WAIT_MILLIS,
    valueName: "DURATION",
    description: "how long a get may wait for another runner sharing the Redis to compile the " +
      "same action, rather than compile it too (single flight); 0 turns it off",
  },
  {
    key: "readOnly",
    name: "read-only",
    kind: "boolean",
    env: "GOCACHEPROG_READ_ONLY",
    description: "read from Redis but never write to it (for untrusted jobs)",
  },
  {
    key: "compress",
    name: "compress",
    kind: "string",
    env: "GOCACHEPROG_COMPRESS",
    choices: ["none", "zstd"],
    default: "none",
    valueName: "none|zstd",
    description: "compression of the bodies stored in Redis; local files stay plain",
  },
  {
    key: "metricsFile",
    name: "metrics-file",
    kind: "string",
    env: "GOCACHEPROG_METRICS_FILE",
    defaultText: "none",
    valueName: "FILE",
    description: "append one JSON line of metrics per go command to FILE (for `gocacheprog stats`)",
  },
  {
    key: "trimAgeMillis",
    name: "trim-age",
    kind: "duration",
    env: "GOCACHEPROG_TRIM_AGE",
    default: DEFAULT_TRIM_AGE_MILLIS,
    valueName: "DURATION",
    description: "remove local entries unused for this long, once a day; 0 turns trimming off",
  },
  {
    key: "maxSizeBytes",
    name: "max-size",
    kind: "size",
    env: "GOCACHEPROG_MAX_SIZE",
    defaultText: "none",
    valueName: "SIZE",
    description: "also remove the least recently used local entries beyond this size (such as 10G)",
  },
  {
    key: "clearLocal",
    name: "local",
    kind: "boolean",
    description: "with `clear`: empty the local store",
  },
  {
    key: "clearRemote",
    name: "remote",
    kind: "boolean",
    description: "with `clear`: delete the keys under the prefix in Redis (nothing else)",
  },
  {
    key: "buildType",
    name: "build-type",
    kind: "string",
    env: "GOCACHEPROG_BUILD_TYPE",
    defaultText: "CI job name",
    valueName: "NAME",
    description: "the kind of build whose manifests are read and written",
  },
  {
    key: "manifestScope",
    name: "manifest-scope",
    kind: "string",
    env: "GOCACHEPROG_MANIFEST_SCOPE",
    defaultText: "from CI",
    valueName: "SCOPE",
    description: "this build's manifest scope: mr:<iid>, pr:<n> or ref:<branch>",
  },
  {
    key: "manifestBase",
    name: "manifest-base",
    kind: "string",
    env: "GOCACHEPROG_MANIFEST_BASE",
    defaultText: "from CI",
    valueName: "BRANCH",
    description: "the branch a merge or pull request targets",
  },
  {
    key: "manifestDefault",
    name: "manifest-default",
    kind: "string",
    env: "GOCACHEPROG_MANIFEST_DEFAULT",
    defaultText: "from CI, else main",
    valueName: "BRANCH",
    description: "the default branch",
  },
  {
    key: "manifest",
    name: "manifest",
    kind: "boolean",
    env: "GOCACHEPROG_MANIFEST",
    defaultText: "on in CI",
    description: "write build manifests outside CI too (so do --manifest-scope and --build-type)",
  },
  {
    key: "prefetchMaxBytes",
    name: "prefetch-max-bytes",
    kind: "size",
    env: "GOCACHEPROG_PREFETCH_MAX_BYTES",
    default: DEFAULT_PREFETCH_MAX_BYTES,
    valueName: "SIZE",
    description: "prefetch at most this much from build manifests; 0 turns prefetching off",
  },
  {
    key: "speculate",
    name: "speculate",
    kind: "boolean",
    env: "GOCACHEPROG_SPECULATE",
    default: true,
    description: "fetch a compile's stdout companion in the same round trip",
  },
  {
    key: "help",
    name: "help",
    aliases: ["h"],
    kind: "boolean",
    description: "show this help and exit",
  },
  {
    key: "version",
    name: "version",
    kind: "boolean",
    description: "print the version and exit",
  },
] as const satisfies readonly FlagSpec[];

/** Every flag this program takes, in the order `--help` lists them. */
export const FLAGS: readonly FlagSpec[] = FLAG_ROWS;

/** One row of the table, with its literal types. */
type Flag = (typeof FLAG_ROWS)[number];

/** The value a flag gives: by its kind, and for a choice, one of its words. */
type FlagValue<F extends FlagSpec> = F extends { kind: "boolean" } ? boolean
  : F extends { kind: "list" } ? string[]
  : F extends { kind: "duration" | "size" } ? number
  : F extends { choices: readonly (infer C extends string)[] } ? C
  : string;

/** The flags that always have a value: switches, lists, and flags with a default. */
type Defaulted = Extract<Flag, { kind: "boolean" | "list" } | { default: unknown }>;

/**
 * The settings the flags give, one field per flag, derived from the table: a
 * flag without a default is optional. Durations are in milliseconds, sizes in bytes.
 */
export type Settings =
  & { -readonly [F in Defaulted as F["key"]]: FlagValue<F> }
  & { -readonly [F in Exclude<Flag, Defaulted> as F["key"]]?: FlagValue<F> };

/** The environment variables this program may read: every flag's, and their fallbacks. */
export const ENV_VARIABLES: readonly string[] = [
  ...new Set(
    FLAGS.flatMap((spec) =>
      [spec.env, spec.envFallback].filter((name): name is string => name !== undefined)
    ),
  ),
];
