/**
 * Output files (`-d`), which the go command is given as DiskPath: written so that one
 * already holding this output is left alone (another go process may be reading it), one
 * holding other bytes is replaced atomically, and none is created in place; and a body
 * fetched from elsewhere checked against its OutputID before it becomes one.
 *
 * Synchronous and asynchronous twins: work the go command waits on uses the synchronous
 * ones (a small write answers sooner without a trip through the thread pool), and
 * background work the asynchronous ones, which leave the event loop's thread free.
 *
 * @module
 */

import type { PutRequest } from "../store.ts";
import { CorruptEntryError } from "../errors.ts";
import {
  createFile,
  createFileSync,
  fileInfo,
  fileInfoAsync,
  writeFileAtomic,
  writeFileAtomicSync,
} from "./atomic_file.ts";
import { loadedSha256, loadSha256, sha256HexOffThread } from "../util/sha256.ts";

/** What an output is: its hash and its size. */
type Output = Pick<PutRequest, "outputId" | "size">;

/**
 * Writes an output file: created in place when there is none, left alone when it holds
 * this output already, replaced atomically when it does not.
 *
 * @param path The output file.
 * @param output Its OutputID and size.
 * @param body The body, already checked.
 */
export function writeOutputSync(path: string, output: Output, body: Uint8Array): void {
  if (createFileSync(path, body)) return;
  if (!holdsOutput(path, output)) writeFileAtomicSync(path, body);
}

/**
 * {@linkcode writeOutputSync}, off the event loop's thread.
 *
 * @param path The output file.
 * @param output Its OutputID and size.
 * @param body The body, already checked.
 */
export async function writeOutput(path: string, output: Output, body: Uint8Array): Promise<void> {
  if (await createFile(path, body)) return;
  if (!(await holdsOutputInBackground(path, output))) await writeFileAtomic(path, body);
}

/**
 * Whether an output file already holds this output: the right size and, as the go
 * command checks before it trusts one, the right SHA-256. A damaged file of the right
 * size (a crash, a bad disk) is then rewritten by the put, instead of being served and
 * re-uploaded forever. Before the hash module has loaded (the first moments of a
 * session), the file is rewritten rather than trusted.
 *
 * @param path The output file.
 * @param output Its OutputID and size.
 * @returns `true` when the file holds exactly this output.
 */
export function holdsOutput(path: string, output: Output): boolean {
  if (fileInfo(path)?.size !== output.size) return false;
  const sha256 = loadedSha256();
  if (sha256 === undefined) return false;
  const hash = sha256();
  try {
    hash.update(Deno.readFileSync(path));
  } catch {
    return false; // removed meanwhile, or unreadable: write it
  }
  return hash.digestHex() === output.outputId;
}

/** {@linkcode holdsOutput}, with the read and the hash off the event loop's thread. */
async function holdsOutputInBackground(path: string, output: Output): Promise<boolean> {
  if ((await fileInfoAsync(path))?.size !== output.size) return false;
  try {
    return (await sha256HexOffThread(await Deno.readFile(path))) === output.outputId;
  } catch {
    return false;
  }
}

/**
 * Checks a body fetched from elsewhere against its entry: its size, and its SHA-256
 * against its OutputID. The hash runs on the event loop's thread (the faster one, for
 * a get that waits) or on the thread pool.
 *
 * @param output The OutputID and size the body must have.
 * @param body The body.
 * @param offThread Hash on the thread pool.
 * @throws {CorruptEntryError} If the body is not that output.
 */
export async function checkBody(
  output: Output,
  body: Uint8Array,
  offThread: boolean,
): Promise<void> {
  if (body.length !== output.size) {
    throw new CorruptEntryError(`its body is ${body.length} bytes, not ${output.size}`);
  }
  let digest: string;
  if (offThread) {
    digest = await sha256HexOffThread(body);
  } else {
    const hash = (await loadSha256())();
    hash.update(body);
    digest = hash.digestHex();
  }
  if (digest !== output.outputId) {
    throw new CorruptEntryError("its body's SHA-256 is not its OutputID");
  }
}
