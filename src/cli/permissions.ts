/**
 * Checking, before the handshake, that the program was given the Deno permissions it
 * needs, and saying which flag to add when not. Without this check a missing permission
 * would surface in the middle of a build, as a failed request, or as a prompt that reads
 * the protocol's stdin. Serving and `doctor` use the same check: what one asks for, the
 * other reports.
 *
 * @module
 */

import { CI_ENV_VARIABLES, GO_ENV_VARIABLES } from "../tiered/build_env.ts";
import { ENV_VARIABLES } from "./flags.ts";
import type { Command, Config } from "./config.ts";
import { redisEndpoints } from "./remote_settings.ts";

/**
 * The `--allow-env` value for the disk-only mode: `GOCACHE` and every variable of ours
 * (Deno accepts a trailing `*`), and where the go command's default cache directory is
 * (`HOME`, `XDG_CACHE_HOME`, for commands run without `GOCACHE`), and nothing else.
 */
export const ENV_PERMISSION = "GOCACHE,GOCACHEPROG_*,HOME,XDG_CACHE_HOME";

/**
 * The `--allow-env` value for Redis mode with a standalone server: the program's own
 * variables, and those that name the build's manifests: the go command's toolchain and
 * target, and the CI job's. A Cluster or Sentinel
 * needs the whole environment instead, because ioredis reads all of it when it loads.
 */
export const REDIS_ENV_PERMISSION: string = [
  ENV_PERMISSION,
  ...GO_ENV_VARIABLES,
  ...CI_ENV_VARIABLES,
]
  .join(",");

/**
 * Whether the whole environment must be readable: only for a Cluster or Sentinel, which
 * load ioredis.
 *
 * @param redis The Redis addresses and Sentinel addresses configured.
 * @returns Whether `--allow-env` must be given without a list.
 */
export function needsWholeEnvironment(
  redis: { redisUrls: readonly string[]; redisSentinels: readonly string[] },
): boolean {
  return redis.redisUrls.length > 1 || redis.redisSentinels.length > 0;
}

/**
 * Reads a variable this program knows about (a flag's), or nothing when it is not
 * permitted: asking for another would prompt, or fail.
 *
 * @param name The variable.
 * @returns Its value, or `undefined`.
 */
export function readOwnEnv(name: string): string | undefined {
  if (!ENV_VARIABLES.includes(name)) return undefined;
  return readEnvIfGranted(name);
}

/**
 * Reads any variable whose reading is granted, without ever prompting.
 *
 * @param name The variable.
 * @returns Its value, or `undefined` when unset or not granted.
 */
export function readEnvIfGranted(name: string): string | undefined {
  if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
    return undefined;
  }
  return Deno.env.get(name);
}

/** What the program will touch, as the permissions that grant it. */
export interface PermissionNeeds {
  /** Paths to read: the cache directory, and the files the flags name. */
  read: readonly string[];
  /** Paths to write: the cache directory, and the metrics file when serving. */
  write: readonly string[];
  /**
   * Hosts to connect to, as `--allow-net` takes them: `host:port` for a standalone
   * server; a bare host for a Cluster's nodes and a Sentinel's master, on other ports.
   */
  net: readonly string[];
  /** Whether the whole environment must be readable (a Redis Cluster or Sentinel). */
  allEnv: boolean;
}

/**
 * What a command will touch, given the configuration: for serving (and for `doctor`,
 * which checks what serving needs), the cache directory, the secret files, the Redis
 * hosts, and the metrics file to append to; for `stats`, the metrics file to read.
 *
 * @param config The parsed configuration.
 * @param dir The cache directory.
 * @param command The command to plan for; the configuration's own unless given.
 * @returns The permissions needed.
 */
export function permissionNeeds(
  config: Config,
  dir: string,
  command: Command = config.command,
): PermissionNeeds {
  const secrets = [
    config.redisPasswordFile,
    config.redisTlsCa,
    config.redisTlsCert,
    config.redisTlsKey,
  ].filter((path): path is string => path !== undefined);
  const serving = command === "serve" || command === "doctor";
  const metricsFile = config.metricsFile;
  const allEnv = needsWholeEnvironment(config);
  const endpoints = redisEndpoints(config);
  return {
    read: [
      dir,
      ...secrets,
      ...(command === "stats" && metricsFile !== undefined ? [metricsFile] : []),
    ],
    write: [dir, ...(serving && metricsFile !== undefined ? [metricsFile] : [])],
    net: [...new Set(allEnv ? endpoints.map(hostOf) : endpoints)],
    allEnv,
  };
}

/** Answers one permission query; `Deno.permissions.querySync` in the program. */
export type PermissionQuery = (descriptor: Deno.PermissionDescriptor) => boolean;

/**
 * Lists the flags missing for what the program will do.
 *
 * @param needs What the program will touch.
 * @param query Whether a permission is granted.
 * @returns The missing `deno run` flags, empty when all is granted.
 */
export function missingPermissionFlags(needs: PermissionNeeds, query: PermissionQuery): string[] {
  const read = needs.read.filter((path) => !query({ name: "read", path }));
  const write = needs.write.filter((path) => !query({ name: "write", path }));
  const net = needs.net.filter((host) => !query({ name: "net", host }));
  return [
    ...(read.length === 0 ? [] : [`--allow-read=${read.join(",")}`]),
    ...(write.length === 0 ? [] : [`--allow-write=${write.join(",")}`]),
    ...(net.length === 0 ? [] : [`--allow-net=${net.join(",")}`]),
    ...(needs.allEnv && !query({ name: "env" }) ? ["--allow-env"] : []),
  ];
}

/**
 * Asks Deno, without ever prompting.
 *
 * @param descriptor The permission.
 * @returns Whether it is granted.
 */
export function queryDenoPermission(descriptor: Deno.PermissionDescriptor): boolean {
  return Deno.permissions.querySync(descriptor).state === "granted";
}

/** `host` of `host:port`, with the brackets of an IPv6 host kept. */
function hostOf(endpoint: string): string {
  return endpoint.replace(/:\d+$/, "");
}
