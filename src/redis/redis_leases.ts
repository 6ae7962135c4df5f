/**
 * Leases in Redis, for single flight across the fleet: one key per action being compiled
 * (`leaseKey`), holding its owner's identity, with a lifetime the owner renews. Each
 * operation is one Lua script per key, so that it runs on whichever Cluster node holds
 * the action, and the scripts of many keys are pipelined into one round trip.
 *
 * The claim rides on the get the go command waits on: one script reads the entry (and
 * refreshes its TTL, as a get does) and, only when there is none, takes the lease unless
 * another owner holds it. A hit costs what a `GETEX` costs, and a miss claims at no extra
 * round trip. A read-only runner (a `+@read` user may not run scripts) reads the entry and
 * the lease with two pipelined `GET`s, and never claims.
 *
 * @module
 */

import type { Lane, RedisArg, RedisReply } from "./transport.ts";
import { valueOrNull } from "./transport.ts";
import { entryKey, leaseKey } from "./value_format.ts";

/** Sends one command on a lane. */
export type Send = (args: readonly RedisArg[], lane: Lane) => Promise<RedisReply>;

/**
 * The entry's value, refreshing its TTL; else the lease, taken if free: `{1, value}` or
 * `{0, holder}` (the asker's own identity when it has just taken it).
 */
const CLAIM_SCRIPT = `
local value = redis.call('GETEX', KEYS[1], 'PX', ARGV[1])
if value then return {1, value} end
local held = redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3], 'GET')
if held then return {0, held} end
return {0, ARGV[2]}
`;

/** Extends a lease if it is still the owner's: 1 if it was. */
const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** Deletes a lease if it is still the owner's. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

const decoder = new TextDecoder();

/** What a claim found: the entry's first value, or who holds the action's lease. */
export type ClaimReply = { head: Uint8Array } | { head: null; holder: string | undefined };

/**
 * Reads an action's first value and, when there is none, takes its lease unless another
 * owner holds it; or, without a lease to take, reads the lease's holder beside the value.
 *
 * @param send Sends a command.
 * @param target The key namespace, the action, and the entries' TTL (`undefined` when
 * reads must not refresh it: read-only).
 * @param claim Who asks, and the lease's lifetime (absent: look only).
 * @returns The value, or the lease's holder.
 */
export async function claimOrRead(
  send: Send,
  target: { namespace: string; actionId: string; ttlMillis: string | undefined },
  claim: { owner: string; leaseMillis?: number },
): Promise<ClaimReply> {
  const entry = entryKey(target.namespace, target.actionId);
  const lease = leaseKey(target.namespace, target.actionId);
  if (claim.leaseMillis === undefined || target.ttlMillis === undefined) {
    // Two GETs on one lane: one round trip, and allowed to a +@read user and a replica.
    const [value, holder] = await Promise.all([
      send(["GET", entry], "demand"),
      send(["GET", lease], "demand"),
    ]);
    const head = valueOrNull(value!, "GET");
    if (head !== null) return { head };
    const held = valueOrNull(holder!, "GET");
    return { head: null, holder: held === null ? undefined : decoder.decode(held) };
  }
  const reply = await send(
    [
      "EVAL",
      CLAIM_SCRIPT,
      "2",
      entry,
      lease,
      target.ttlMillis,
      claim.owner,
      String(claim.leaseMillis),
    ],
    "demand",
  );
  if (!Array.isArray(reply) || reply.length !== 2 || !(reply[1] instanceof Uint8Array)) {
    throw new TypeError("Redis answered the claim script with something other than its reply");
  }
  return reply[0] === 1 ? { head: reply[1] } : { head: null, holder: decoder.decode(reply[1]) };
}

/**
 * Extends each lease that is still the owner's, all in one round trip.
 *
 * @param send Sends a command.
 * @param namespace The key namespace.
 * @param leases The actions, their owner and their new lifetime.
 * @returns For each action, whether its lease was still the owner's.
 */
export async function renewLeases(
  send: Send,
  namespace: string,
  leases: { actionIds: readonly string[]; owner: string; leaseMillis: number },
): Promise<boolean[]> {
  const replies = await Promise.all(leases.actionIds.map((actionId) =>
    send(
      [
        "EVAL",
        RENEW_SCRIPT,
        "1",
        leaseKey(namespace, actionId),
        leases.owner,
        String(leases.leaseMillis),
      ],
      "demand",
    )
  ));
  return replies.map((reply) => reply === 1);
}

/**
 * Deletes each lease that is still the owner's, all in one round trip, on the upload lane
 * (after an upload, or at close).
 *
 * @param send Sends a command.
 * @param namespace The key namespace.
 * @param leases The actions and their owner.
 */
export async function releaseLeases(
  send: Send,
  namespace: string,
  leases: { actionIds: readonly string[]; owner: string },
): Promise<void> {
  await Promise.all(
    leases.actionIds.map((actionId) =>
      send(["EVAL", RELEASE_SCRIPT, "1", leaseKey(namespace, actionId), leases.owner], "upload")
    ),
  );
}
