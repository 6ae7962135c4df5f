/**
 * The npm packages that Redis Cluster and Sentinel need (ioredis), named by a literal
 * import so that `deno cache` (and `deno install --entrypoint`, and `deno compile
 * --include`) fetch them. Nothing imports this module at run time: the program loads
 * ioredis by a computed specifier, so that no go command ever fetches it at start-up
 * (see `ioredis_transport.ts`).
 *
 * @module
 */

export type { Cluster } from "ioredis";
import "ioredis";
