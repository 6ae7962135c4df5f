/**
 * SHA-256 through `node:crypto`, the fastest hash here, also per small call. The module
 * is loaded on first use rather than by a static import: a static `node:` import delays
 * every go command's handshake (measured in the README's Design section).
 *
 * @module
 */

/** An incremental SHA-256. */
export interface Sha256 {
  /** Adds bytes. */
  update(data: Uint8Array): void;
  /** Finishes and returns the digest in lowercase hex. */
  digestHex(): string;
}

/** Creates a new incremental SHA-256. */
export type Sha256Factory = () => Sha256;

let loading: Promise<Sha256Factory> | undefined;
let loaded: Sha256Factory | undefined;

/**
 * The hash implementation if it has been loaded, for synchronous callers that can do
 * without it otherwise.
 *
 * @returns The factory, or `undefined` before {@linkcode loadSha256} has finished.
 */
export function loadedSha256(): Sha256Factory | undefined {
  return loaded;
}

/**
 * Loads the hash implementation once.
 *
 * @returns A factory of incremental hashes.
 */
export function loadSha256(): Promise<Sha256Factory> {
  loading ??= import("node:crypto").then(({ createHash }) =>
    loaded = () => {
      const hash = createHash("sha256");
      return {
        update(data: Uint8Array): void {
          hash.update(data);
        },
        digestHex(): string {
          return hash.digest("hex");
        },
      };
    }
  );
  return loading;
}

/**
 * The SHA-256 of a whole buffer, computed on Deno's thread pool (`crypto.subtle`), so
 * that background work leaves the event loop's thread to the go command's requests.
 * Slower per call than {@linkcode loadSha256}'s hash, so only for
 * work nobody waits on.
 *
 * @param data The bytes.
 * @returns The digest in lowercase hex.
 */
export async function sha256HexOffThread(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return new Uint8Array(digest).toHex();
}

/**
 * The SHA-256 of a text's UTF-8 bytes.
 *
 * @param text The text.
 * @returns The digest in lowercase hex.
 */
export async function sha256HexOfText(text: string): Promise<string> {
  // Web Crypto rather than `node:crypto`, which costs a session CPU to
  // load: a build served from local disk hashes only a few short texts (manifest names).
  return await sha256HexOffThread(new TextEncoder().encode(text));
}
