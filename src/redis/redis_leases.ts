/**
 * Leases in Redis, for single flight across the fleet: one key per action being compiled
 * (`leaseKey`), holding its owner's identity, with a lifetime the owner renews. Each
 * operation is one Lua script per key, so that it runs on whichever Cluster node holds
 * the action, and the scripts of many keys are pipelined into one round trip.
 *
 * The claim rides on the get the go command waits on: the entry's `GETEX` and a small
 * script that, only when there is no entry, takes the lease unless another owner holds it,
 * pipelined in one round trip. The value never passes through the script: a script that
 * read it cost Redis 0.4-0.7 ms a call on `go build std` (against 0.04-0.06 ms for
 * `GETEX`), copying each value into Lua and back, and made a remote-warm build 10-20%
 * slower (measured; the README's single-flight section). A read-only runner (a `+@read`
 * user may not run scripts) reads the entry and the lease with two pipelined `GET`s, and
 * never claims.
 *
 * @module
 */

import type { Lane, RedisArg, RedisReply } from "./transport.ts";
import { valueOrNull } from "./transport.ts";
import { entryKey, leaseKey } from "./value_format.ts";

/** Sends one command on a lane. */
export type Send = (args: readonly RedisArg[], lane: Lane) => Promise<RedisReply>;

/**
 * Sends commands back to back on one connection of a lane: one round trip, run in order
 * (see `RedisTransport.sendTogether`).
 */
export type SendTogether = (
  commands: readonly (readonly RedisArg[])[],
  lane: Lane,
) => Promise<RedisReply[]>;

/**
 * Takes the lease of an action that has no entry, unless another owner holds it: `false`
 * (nil) when the entry exists, else the lease's holder (the asker's own identity when it
 * has just taken it). Only `EXISTS` touches the entry: its value stays out of Lua.
 */
const CLAIM_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local held = redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2], 'GET')
if held then return held end
return ARGV[1]
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
 * @param redis Sends a command, or several together.
 * @param target The key namespace, the action, and the entries' TTL (`undefined` when
 * reads must not refresh it: read-only).
 * @param claim Who asks, and the lease's lifetime (absent: look only).
 * @returns The value, or the lease's holder.
 */
export async function claimOrRead(
  { send, sendTogether }: { send: Send; sendTogether: SendTogether },
  target: { namespace: string; actionId: string; ttlMillis: string | undefined },
  claim: { owner: string; leaseMillis?: number },
): Promise<ClaimReply> {
  const entry = entryKey(target.namespace, target.actionId);
  const lease = leaseKey(target.namespace, target.actionId);
  if (claim.leaseMillis === undefined || target.ttlMillis === undefined) {
    // Two GETs together: one round trip, and allowed to a +@read user and a replica.
    const [value, holder] = await sendTogether([["GET", entry], ["GET", lease]], "demand");
    const head = valueOrNull(value!, "GET");
    if (head !== null) return { head };
    const held = valueOrNull(holder!, "GET");
    return { head: null, holder: held === null ? undefined : decoder.decode(held) };
  }
  const read = ["GETEX", entry, "PX", target.ttlMillis];
  // Together, in this order: one round trip, and the claim runs just after the read.
  const [value, claimed] = await sendTogether([
    read,
    ["EVAL", CLAIM_SCRIPT, "2", entry, lease, claim.owner, String(claim.leaseMillis)],
  ], "demand");
  const head = valueOrNull(value!, "GETEX");
  const held = valueOrNull(claimed!, "EVAL");
  const holder = held === null ? undefined : decoder.decode(held);
  if (head !== null) {
    // The entry was evicted or deleted between the two, and the claim took the lease:
    // it is not needed, and would hold others back until it expires.
    if (holder === claim.owner) {
      releaseLeases(send, target.namespace, { actionIds: [target.actionId], owner: claim.owner })
        .catch(() => {});
    }
    return { head };
  }
  if (holder !== undefined) return { head: null, holder };
  // The entry landed after the GETEX and before the claim: read it again.
  const landed = valueOrNull(await send(read, "demand"), "GETEX");
  return landed === null ? { head: null, holder: undefined } : { head: landed };
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
