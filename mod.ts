/**
 * gocacheprog: a GOCACHEPROG program for the go command. It serves the go command's
 * build cache from a local directory in the go command's own layout.
 *
 * Run as a program (`deno run mod.ts`, or an installed `gocacheprog`), it is the CLI in
 * `src/main.ts`. As a library, it exports the protocol engine and the stores, so other
 * stores can be plugged in behind the same protocol. The Redis store is a separate
 * entry point, `@gocacheprog/gocacheprog/redis`, so that nothing here loads ioredis.
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
export type {
  Hit,
  LocalStore,
  PutRequest,
  PutWriter,
  RemoteEntry,
  RemoteGetOptions,
  RemoteStore,
} from "./src/store.ts";
export { CorruptEntryError } from "./src/store.ts";
export { TieredStore } from "./src/tiered/remote_backed_store.ts";
export type {
  ManifestOptions,
  TieredMetrics,
  TieredStoreOptions,
} from "./src/tiered/remote_backed_store.ts";
export {
  decodeManifest,
  deriveScopes,
  ManifestRecorder,
  selectPrefetch,
} from "./src/tiered/manifest.ts";
export type { Manifest, ManifestRecord, ManifestScopes } from "./src/tiered/manifest.ts";
export { CircuitBreaker } from "./src/tiered/circuit_breaker.ts";
export type { BreakerState, CircuitBreakerOptions } from "./src/tiered/circuit_breaker.ts";
export { DiskStore } from "./src/local/disk_store.ts";
export {
  encodeNativeEntry,
  NATIVE_ENTRY_BYTES,
  parseNativeEntry,
} from "./src/local/native_entry.ts";
export type { NativeEntry } from "./src/local/native_entry.ts";
export {
  decodeRequest,
  encodeResponse,
  formatRfc3339Nanos,
  HANDSHAKE_LINE,
  KNOWN_COMMANDS,
} from "./src/protocol/wire.ts";
export type { Request, Response } from "./src/protocol/wire.ts";
export { RequestReader } from "./src/protocol/request_reader.ts";
export { byteSourceFromStream } from "./src/protocol/byte_source.ts";
export type { ByteSource } from "./src/protocol/byte_source.ts";
export type { BlockingPolicy, BodyConsumer, BodyResult } from "./src/protocol/request_reader.ts";
export { ResponseWriter } from "./src/protocol/response_writer.ts";
export type { ByteSink } from "./src/protocol/response_writer.ts";
export { ServeMetrics } from "./src/protocol/serve_metrics.ts";
export { Logger } from "./src/util/log.ts";
export type { LineSink } from "./src/util/log.ts";
export { FLAGS, parseConfig } from "./src/cli/config.ts";
export type { Command, Config, EnvReader, FlagKind, FlagSpec } from "./src/cli/config.ts";
export { main } from "./src/main.ts";
export { VERSION } from "./src/version.ts";

if (import.meta.main) {
  const { main } = await import("./src/main.ts");
  Deno.exit(await main(Deno.args));
}
