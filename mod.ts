/**
 * gocacheprog: a GOCACHEPROG program for the go command. It serves the go command's
 * build cache from a local directory in the go command's own layout, and shares it
 * between machines through a remote store.
 *
 * Run as a program (`deno run mod.ts`, or an installed `gocacheprog`), it is the CLI in
 * `src/main.ts`. As a library, it exports the protocol engine ({@linkcode serve}), the
 * store interfaces, the disk store, and the remote-backed store that puts any
 * {@linkcode RemoteStore} behind a local one. The Redis store is a separate entry point,
 * `@gocacheprog/gocacheprog/redis`, so that nothing here loads it.
 *
 * @example Serve a session from a disk store
 * ```ts ignore
 * import { DiskStore, serve } from "@gocacheprog/gocacheprog";
 *
 * await serve(() => DiskStore.open("/var/cache/go-build"), {
 *   input: Deno.stdin,
 *   output: (bytes) => {
 *     Deno.stdout.writeSync(bytes);
 *   },
 * });
 * ```
 *
 * @module
 */

export { DEFAULT_MAX_IN_FLIGHT, serve } from "./src/protocol/serve.ts";
export type { ServeEnd, ServeOptions, StoreOpener } from "./src/protocol/serve.ts";
export { ServeMetrics } from "./src/protocol/serve_metrics.ts";
export {
  decodeRequest,
  encodeResponse,
  formatRfc3339Nanos,
  HANDSHAKE_LINE,
  KNOWN_COMMANDS,
} from "./src/protocol/wire.ts";
export type { Request, Response } from "./src/protocol/wire.ts";
export { RequestReader } from "./src/protocol/request_reader.ts";
export type { BlockingPolicy, BodyConsumer, BodyResult } from "./src/protocol/request_reader.ts";
export { ResponseWriter } from "./src/protocol/response_writer.ts";
export type { ByteSink } from "./src/protocol/response_writer.ts";
export { byteSourceFromStream } from "./src/protocol/byte_source.ts";
export type { ByteSource } from "./src/protocol/byte_source.ts";
export {
  bytesReader,
  DEFAULT_CONNECT_TIMEOUT_MILLIS,
  DEFAULT_REMOTE_TIMEOUT_MILLIS,
  MAX_REMOTE_ENTRY_BYTES,
} from "./src/store.ts";
export type {
  BodyReader,
  CacheStore,
  Hit,
  LocalStore,
  PutRequest,
  PutWriter,
  RemoteEntry,
  RemoteGetOptions,
  RemoteStore,
  RemoteUpload,
} from "./src/store.ts";
export {
  CorruptEntryError,
  DeadlineError,
  EntryTooLargeError,
  RemoteAuthError,
  RemoteFullError,
  RemoteTlsError,
  RemoteUnavailableError,
} from "./src/errors.ts";
export { DiskStore } from "./src/local/disk_store.ts";
export type { DiskStoreOptions } from "./src/local/disk_store.ts";
export {
  encodeNativeEntry,
  NATIVE_ENTRY_BYTES,
  parseNativeEntry,
} from "./src/local/native_entry.ts";
export type { NativeEntry } from "./src/local/native_entry.ts";
export { DEFAULT_TRIM_AGE_MILLIS, trimStore } from "./src/local/trim.ts";
export type { TrimOptions, TrimResult } from "./src/local/trim.ts";
export { RemoteBackedStore } from "./src/tiered/remote_backed_store.ts";
export type {
  PrefetchOutcome,
  RemoteBackedStoreOptions,
} from "./src/tiered/remote_backed_store.ts";
export type { ManifestOptions } from "./src/tiered/manifest_session.ts";
export { TierMetrics } from "./src/tiered/tier_metrics.ts";
export {
  decodeManifest,
  deriveScopes,
  ManifestRecorder,
  selectPrefetch,
} from "./src/tiered/manifest.ts";
export type { Manifest, ManifestRecord, ManifestScopes } from "./src/tiered/manifest.ts";
export { CircuitBreaker } from "./src/tiered/circuit_breaker.ts";
export type { BreakerState, CircuitBreakerOptions } from "./src/tiered/circuit_breaker.ts";
export { Logger } from "./src/util/log.ts";
export type { LineSink } from "./src/util/log.ts";
export { VERSION } from "./src/version.ts";

if (import.meta.main) {
  const { main } = await import("./src/main.ts");
  Deno.exit(await main(Deno.args));
}
