/**
 * Checking, before the handshake, that the program was given the Deno permissions it
 * needs, and saying which flag to add when not. Without this check a missing permission
 * would surface in the middle of a build, as a failed request, or as a prompt that reads
 * the protocol's stdin.
 *
 * @module
 */

import { CI_ENV_VARIABLES } from "../tiered/manifest.ts";
import { ENV_VARIABLES } from "./flags.ts";

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
export const REDIS_ENV_PERMISSION: string = [ENV_PERMISSION, ...CI_ENV_VARIABLES].join(",");

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

/** What the program will touch. */
export interface PermissionNeeds {
  /** The cache directory: read and write. */
  dir: string;
  /** Redis hosts (`host:port`): connect. */
  netHosts: readonly string[];
  /**
   * Whether the whole environment must be readable: for a Redis Cluster or Sentinel,
   * through ioredis, which reads it all when it loads.
   */
  allEnv: boolean;
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
  const missing: string[] = [];
  if (!query({ name: "read", path: needs.dir })) missing.push(`--allow-read=${needs.dir}`);
  if (!query({ name: "write", path: needs.dir })) missing.push(`--allow-write=${needs.dir}`);
  const hosts = new Set<string>();
  for (const host of needs.netHosts) {
    if (!query({ name: "net", host })) hosts.add(host.replace(/:\d+$/, ""));
  }
  // A host without a port: a Cluster's nodes, and a Sentinel's master, are on other ports.
  if (hosts.size > 0) missing.push(`--allow-net=${[...hosts].join(",")}`);
  if (needs.allEnv && !query({ name: "env" })) missing.push("--allow-env");
  return missing;
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
