/**
 * Build manifests in Redis: one string per manifest under the store's namespace, read
 * with `GETRANGE` up to the format's size limit (a value written by someone else may be
 * any size), and added to by one Lua script that appends for the same CI job and
 * replaces for another, within the limit, then expires like entries. One key per
 * script, so it runs on whichever Cluster node holds it.
 *
 * @module
 */

import { MAX_MANIFEST_BYTES } from "../manifest_format.ts";
import type { ManifestWrite } from "../store.ts";
import { type Lane, type RedisArg, type RedisReply, valueOrNull } from "./transport.ts";
import { manifestKey } from "./value_format.ts";

/** Sends one command on a lane. */
export type Send = (args: readonly RedisArg[], lane: Lane) => Promise<RedisReply>;

/**
 * Adds records to a manifest in one step: append when the stored header names the same
 * CI job (bytes 8-23), replace otherwise; never beyond the size limit; then expire like
 * entries.
 */
const MANIFEST_SCRIPT = `
local key = KEYS[1]
if redis.call('GETRANGE', key, 8, 23) == ARGV[1] then
  if redis.call('STRLEN', key) + string.len(ARGV[3]) <= tonumber(ARGV[5]) then
    redis.call('APPEND', key, ARGV[3])
  end
else
  redis.call('SET', key, ARGV[2] .. string.sub(ARGV[3], 1, tonumber(ARGV[5]) - string.len(ARGV[2])))
end
redis.call('PEXPIRE', key, ARGV[4])
return 1
`;

/**
 * Reads build manifests, at most their size limit each, without extending their life,
 * on the background lane.
 *
 * @param send Sends a command.
 * @param namespace The store's key namespace.
 * @param names The manifests' names.
 * @returns Each manifest's bytes, or `undefined` where there is none.
 */
export async function readManifests(
  send: Send,
  namespace: string,
  names: readonly string[],
): Promise<(Uint8Array | undefined)[]> {
  const last = String(MAX_MANIFEST_BYTES - 1);
  const values = await Promise.all(
    names.map((name) => send(["GETRANGE", manifestKey(namespace, name), "0", last], "background")),
  );
  // GETRANGE answers a missing key with an empty value, which no manifest is.
  return values.map((value) => {
    const bytes = valueOrNull(value, "GETRANGE");
    return bytes === null || bytes.length === 0 ? undefined : bytes;
  });
}

/**
 * Adds to a build manifest, on the upload lane.
 *
 * @param send Sends a command.
 * @param target The store's key namespace, the manifest's name, and its lifetime.
 * @param manifest The job's identity hash, a header for a new manifest, and the records.
 */
export async function writeManifest(
  send: Send,
  target: { namespace: string; name: string; ttlMillis: string },
  manifest: ManifestWrite,
): Promise<void> {
  await send([
    "EVAL",
    MANIFEST_SCRIPT,
    "1",
    manifestKey(target.namespace, target.name),
    Uint8Array.fromHex(manifest.jobHash),
    manifest.header,
    manifest.records,
    target.ttlMillis,
    String(MAX_MANIFEST_BYTES),
  ], "upload");
}
