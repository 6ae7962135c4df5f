/**
 * `gocacheprog doctor`: checks what a build through this program depends on and, for
 * each problem, says how to fix it. Its exit status is 0 only when all is well.
 *
 * It is run by a person, with the permissions they choose: checks that need a
 * permission that was not granted say so rather than fail.
 *
 * @module
 */

import type { CommandContext } from "./context.ts";
import { missingPermissionFlags, permissionNeeds } from "../permissions.ts";
import { redisEndpoints } from "../remote_settings.ts";
import { parseRedisAddress } from "../../redis/address.ts";
import { messageOf, RemoteAuthError, RemoteTlsError } from "../../errors.ts";
import type { RedisAdmin } from "../../redis/admin.ts";

/** One check's outcome. */
export interface Finding {
  /** What was checked. */
  check: string;
  /** Whether it is fine. */
  ok: boolean;
  /** What was found. */
  detail: string;
  /** How to fix it, for a problem. */
  fix?: string;
}

/**
 * Runs every check and prints one line per check.
 *
 * @param context The configuration and the printer.
 * @returns 0 when all is well, 1 otherwise.
 */
export async function runDoctor(context: CommandContext): Promise<number> {
  const findings = [
    await checkGo(context),
    checkCacheDir(context.dir, context.dirLinkedFrom),
    ...(await checkRedis(context)),
    checkPermissions(context),
  ];
  for (const finding of findings) {
    context.print(`${finding.ok ? "ok     " : "PROBLEM"} ${finding.check}: ${finding.detail}`);
    if (finding.fix !== undefined) context.print(`        fix: ${finding.fix}`);
  }
  const problems = findings.filter((finding) => !finding.ok).length;
  context.print(problems === 0 ? "all is well" : `${problems} problem${problems === 1 ? "" : "s"}`);
  return problems === 0 ? 0 : 1;
}

async function checkGo(context: CommandContext): Promise<Finding> {
  const check = "go command";
  if (!context.query({ name: "run", command: "go" })) {
    // Serving never runs go: this is doctor's own check, and it is skipped, not failed.
    return {
      check,
      ok: true,
      detail: "not checked (running go is not permitted: add --allow-run=go to check it)",
    };
  }
  try {
    const version = (await context.goEnv(["GOVERSION"])).GOVERSION ?? "";
    const minor = Number(/^go1\.(\d+)/.exec(version)?.[1] ?? 0);
    if (minor >= 24) return { check, ok: true, detail: version };
    return {
      check,
      ok: false,
      detail: version || "unknown version",
      fix: "install Go 1.24 or newer",
    };
  } catch (error) {
    return {
      check,
      ok: false,
      detail: messageOf(error),
      fix: "install Go 1.24 or newer and put it on PATH",
    };
  }
}

function checkCacheDir(dir: string, linkedFrom: string | undefined): Finding {
  const check = `cache directory ${dir}`;
  // Deno checks the real path: a grant of the link alone would refuse every hit.
  const through = linkedFrom === undefined
    ? ""
    : ` (reached through ${linkedFrom}, a link: grant the real path)`;
  try {
    Deno.mkdirSync(dir, { recursive: true });
    const probe = `${dir}/.gocacheprog-doctor-${Deno.pid}`;
    Deno.writeTextFileSync(probe, "probe\n");
    Deno.removeSync(probe);
    return { check, ok: true, detail: `exists and is writable${through}` };
  } catch (error) {
    return {
      check,
      ok: false,
      detail: `${messageOf(error)}${through}`,
      fix: "create it and make it writable by this user, or point --dir (or GOCACHE) elsewhere",
    };
  }
}

async function checkRedis(context: CommandContext): Promise<Finding[]> {
  const remote = context.remote;
  if (context.remoteProblem !== undefined) {
    return [{
      check: "redis",
      ok: false,
      detail: `cannot be used: ${context.remoteProblem}`,
      fix: "check the file named, and that this user may read it",
    }];
  }
  if (remote === undefined) {
    return [{ check: "redis", ok: true, detail: "not configured (local cache only)" }];
  }
  const addresses = [...remote.urls, ...(remote.sentinels ?? [])];
  const tls = remote.tls !== undefined || addresses.some((url) => parseRedisAddress(url).tls);
  const where = redisEndpoints(context.config).join(",");
  const { openRedisAdmin } = await import("../../redis/admin.ts");
  let admin;
  try {
    admin = await openRedisAdmin(remote);
  } catch (error) {
    const cause = error instanceof Error ? error.cause : undefined;
    let fix = `check that Redis runs at ${where} and that this host may connect to it`;
    if (cause instanceof RemoteAuthError) {
      fix = "check GOCACHEPROG_REDIS_PASSWORD (or --redis-password-file) and --redis-user";
    } else if (cause instanceof RemoteTlsError) {
      fix = "check --redis-tls-ca, --redis-tls-cert and --redis-tls-key, and rediss:// in the URL";
    } else if (cause instanceof Deno.errors.NotCapable) {
      fix = `run with --allow-net=${where}`;
    }
    return [{ check: `redis ${where}`, ok: false, detail: messageOf(error), fix }];
  }
  try {
    const rtt = await admin.pingMillis();
    return [
      { check: admin.description, ok: true, detail: "reachable" },
      {
        check: "redis round trip",
        ok: rtt < 50,
        detail: `${rtt.toFixed(2)} ms`,
        ...(rtt < 50 ? {} : { fix: "put Redis closer to the runners: every lookup pays this" }),
      },
      { check: "redis TLS", ok: true, detail: tls ? "in use" : "not in use (plain TCP)" },
      await checkMemory(admin),
    ];
  } catch (error) {
    return [{ check: admin.description, ok: false, detail: messageOf(error) }];
  } finally {
    await admin.close();
  }
}

/**
 * Whether Redis can hold a cache: a memory limit, and a policy that evicts when it is
 * reached. With `noeviction` a full Redis refuses every upload; with no limit it grows
 * until the machine runs out.
 */
async function checkMemory(admin: RedisAdmin): Promise<Finding> {
  const { formatRedisMemory } = await import("../../redis/admin.ts");
  const check = "redis memory";
  let memory;
  try {
    memory = await admin.memory();
  } catch (error) {
    return { check, ok: true, detail: `not checked: INFO is not allowed (${messageOf(error)})` };
  }
  const used = formatRedisMemory(memory);
  const fix = "set maxmemory (say, what the team's builds store in a week) and " +
    "maxmemory-policy allkeys-lru (or volatile-lru): see the README's section on sizing Redis";
  if (memory.policy === "noeviction") {
    return { check, ok: false, detail: `${used}: a full Redis will refuse every upload`, fix };
  }
  if (memory.maxBytes === 0) {
    return { check, ok: false, detail: `${used}: Redis will grow until the machine runs out`, fix };
  }
  return { check, ok: true, detail: used };
}

/** What serving would need, by the very check serving makes. */
function checkPermissions(context: CommandContext): Finding {
  const needs = permissionNeeds(context.config, context.dir, "serve");
  const missing = missingPermissionFlags(needs, context.query);
  if (missing.length === 0) {
    return { check: "deno permissions", ok: true, detail: "everything serving needs is granted" };
  }
  return {
    check: "deno permissions",
    ok: false,
    detail: `serving would need ${missing.join(" ")}`,
    fix: "add them to the deno run (or deno install) command in GOCACHEPROG",
  };
}
