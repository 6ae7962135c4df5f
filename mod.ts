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
 * @example Serve a go command's session from a disk store
 * ```ts
 * import assert from "node:assert/strict";
 * import { byteSourceFromStream, DiskStore, serve } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const written: string[] = [];
 * // A program would pass Deno.stdin, and write to Deno.stdout.
 * await serve(() => DiskStore.open(dir), {
 *   input: byteSourceFromStream(ReadableStream.from([
 *     new TextEncoder().encode('{"ID":1,"Command":"close"}\n'),
 *   ])),
 *   output: (bytes) => void written.push(new TextDecoder().decode(bytes)),
 * });
 * assert.match(written.join(""), /^\{"ID":0,"KnownCommands":\["get","put","close"\]\}\n/);
 * await Deno.remove(dir, { recursive: true });
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
  BackgroundWork,
  BodyReader,
  CacheStore,
  ClaimedGet,
  EntryDescription,
  Hit,
  LeaseClaim,
  LocalStore,
  ManifestWrite,
  OutputBody,
  PutRequest,
  PutWriter,
  RemoteEntry,
  RemoteGetOptions,
  RemoteStore,
  RemoteUpload,
  Urgency,
} from "./src/store.ts";
export {
  ClosedError,
  CorruptEntryError,
  DeadlineError,
  EntryTooLargeError,
  errorKind,
  RemoteAuthError,
  RemoteFullError,
  RemoteTlsError,
  RemoteUnavailableError,
  UsageError,
} from "./src/errors.ts";
export { MetricsRegistry } from "./src/metrics.ts";
export type { Counted, Counters } from "./src/metrics.ts";
export { SYSTEM_CLOCK, withDeadline } from "./src/util/clock.ts";
export type { Clock } from "./src/util/clock.ts";
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
export { deriveScopes, ManifestRecorder, selectPrefetch } from "./src/tiered/manifest.ts";
export type { ManifestScopes } from "./src/tiered/manifest.ts";
export {
  decodeManifest,
  encodeManifestHeader,
  encodeManifestRecords,
} from "./src/manifest_format.ts";
export type { Manifest, ManifestRecord } from "./src/manifest_format.ts";
export { CircuitBreaker } from "./src/tiered/circuit_breaker.ts";
export type { BreakerState, CircuitBreakerOptions } from "./src/tiered/circuit_breaker.ts";
export type { RemoteHealth } from "./src/tiered/remote_link.ts";
export { HealthFile } from "./src/local/health_file.ts";
export { Logger } from "./src/util/log.ts";
export type { LineSink } from "./src/util/log.ts";
export { VERSION } from "./src/version.ts";

if (import.meta.main) {
  const { main } = await import("./src/main.ts");
  Deno.exit(await main(Deno.args));
}
