/**
 * The transport for a Redis Cluster or Sentinel, through ioredis, which discovers the
 * Cluster's slots and the Sentinel's master. ioredis (and `node:buffer`, which it wants
 * for binary arguments) is loaded only here, when the first command is sent: loading it
 * is costly (see the README's Design section), and it reads the whole environment.
 *
 * Every command has our own deadline, so that a timeout is a {@linkcode DeadlineError}
 * like any other; ioredis' own errors become the typed errors of `errors.ts`. ioredis
 * cannot tell us how a transfer progresses, so these deadlines count age: the base, plus
 * the command's bytes at the floor rate (a get is allowed a whole value's worth).
 *
 * @module
 */

// Types only: nothing of ioredis is loaded until a Cluster or Sentinel is used.
import type { Cluster, ClusterOptions, Redis, RedisOptions } from "ioredis";
import type { Buffer } from "node:buffer";
import { DeadlineError, messageOf, RemoteUnavailableError } from "../errors.ts";
import { withDeadline } from "../util/clock.ts";
import { concatBytes } from "../util/bytes.ts";
import type { RedisAddress, RedisTlsOptions } from "./address.ts";
import {
  ageDeadlineMillis,
  argBytes,
  errorFromReply,
  notConnected,
  type RedisArg,
  type RedisNode,
  type RedisReply,
  type RedisTransport,
} from "./transport.ts";
import { CHUNK_BYTES, HEADER_BYTES } from "./value_format.ts";

type Client = Redis | Cluster;

/** The most a single value holds (a header and a chunk), for a get's deadline. */
const VALUE_BYTES = CHUNK_BYTES + HEADER_BYTES;

/** What ioredis is given: Cluster nodes, or Sentinels and a master group's name. */
export interface IoredisTransportOptions {
  /** A Cluster's seed nodes; used when `sentinels` is absent. */
  nodes?: readonly RedisAddress[];
  /** Sentinels, and the master group they watch. */
  sentinels?: { addresses: readonly RedisAddress[]; name: string };
  /** ACL user name, for every node. */
  username?: string;
  /** Password, for every node. */
  password?: string;
  /** TLS: present to use it, with an optional CA and client certificate (PEM). */
  tls?: RedisTlsOptions;
  /** The description for messages. */
  description: string;
  /** The deadline for each command, in milliseconds. */
  timeoutMillis: number;
  /** The most time for connecting (and for discovering a Cluster's slots), in milliseconds. */
  connectTimeoutMillis: number;
}

/** ioredis and `node:buffer`, loaded once. */
interface Ioredis {
  Redis: typeof Redis;
  Cluster: typeof Cluster;
  ReplyError: new () => Error;
  Buffer: typeof Buffer;
}

/**
 * ioredis' specifier, in a variable on purpose: Deno fetches every npm package a program
 * could import by a literal specifier when the program starts, so a literal
 * `import("ioredis")` made every go command, local or standalone, download ioredis into
 * an empty `DENO_DIR` (and fail to, at length, on a runner without npm). Installing
 * caches it (`ioredis_deps.ts`), for Cluster and Sentinel to work offline. In full, not
 * the import map's name: a computed import is not rewritten when the package is
 * published. It is `deno.json`'s `ioredis` entry (a test checks that they agree).
 */
export const IOREDIS_SPECIFIER = "npm:ioredis@^5.11.1";

let ioredisLoading: Promise<Ioredis> | undefined;

function loadIoredis(): Promise<Ioredis> {
  ioredisLoading ??= Promise.all([
    import(IOREDIS_SPECIFIER) as Promise<typeof import("ioredis")>,
    import("node:buffer"),
  ]).then(
    (
      [{ Redis, Cluster, ReplyError }, { Buffer }],
    ) => ({ Redis, Cluster, ReplyError: ReplyError as unknown as new () => Error, Buffer }),
    (error) => {
      throw new RemoteUnavailableError(
        "ioredis, which a Redis Cluster or Sentinel needs, is not installed and cannot be " +
          `fetched here (${messageOf(error).split("\n")[0]}); install it where npm can be ` +
          "reached: see the README's install section",
        { cause: error },
      );
    },
  );
  return ioredisLoading;
}

/** Commands to a Cluster or through a Sentinel, by ioredis. */
export class IoredisTransport implements RedisTransport {
  readonly description: string;
  #lastError: Error | undefined;
  #timeoutMillis: number;
  #client: Promise<{ client: Client; ioredis: Ioredis }>;
  #ready: Promise<boolean>;

  /**
   * Loads ioredis and starts connecting.
   *
   * @param options Where, and the deadline.
   */
  constructor(options: IoredisTransportOptions) {
    this.description = options.description;
    this.#timeoutMillis = options.timeoutMillis;
    this.#client = loadIoredis().then((ioredis) => {
      const client = createClient(ioredis, options);
      // ioredis reports every failed (re)connection; keep the latest, for messages.
      // Without a listener it would print each one.
      client.on("error", (error: Error) => this.#lastError = error);
      return { client, ioredis };
    });
    this.#ready = this.#client.then(({ client }) =>
      withDeadline(client.connect(), options.connectTimeoutMillis, "connecting")
    ).then(
      () => true,
      (error: unknown) => {
        this.#lastError ??= error instanceof Error ? error : new Error(messageOf(error));
        return false;
      },
    );
  }

  /** The latest connection error. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  ready(): Promise<boolean> {
    return this.#ready;
  }

  async send(args: readonly RedisArg[]): Promise<RedisReply> {
    const { client, ioredis } = await this.#connected();
    return await call(client, ioredis, args, this.#timeoutMillis);
  }

  sendTogether(commands: readonly (readonly RedisArg[])[]): Promise<RedisReply[]> {
    // One connection per node, and keys of one slot: ioredis writes them back to back.
    return Promise.all(commands.map((args) => this.send(args)));
  }

  async nodes(): Promise<RedisNode[]> {
    const { client, ioredis } = await this.#connected();
    const servers = client instanceof ioredis.Cluster ? client.nodes("master") : [client as Redis];
    return servers.map((server) => ({
      send: (args) => call(server, ioredis, args, this.#timeoutMillis),
    }));
  }

  /** Disconnects, without waiting for ioredis to load or connect if it has not yet. */
  close(): Promise<void> {
    this.#client.then(({ client }) => client.disconnect(), () => {});
    return Promise.resolve();
  }

  /** The client, once connected. */
  async #connected(): Promise<{ client: Client; ioredis: Ioredis }> {
    const loaded = await this.#client;
    if (loaded.client.status !== "ready" && !(await this.#ready)) {
      throw notConnected(this.description, this.#lastError);
    }
    return loaded;
  }
}

/** Sends one command through ioredis, with our deadline, and types its errors. */
async function call(
  client: Client,
  ioredis: Ioredis,
  args: readonly RedisArg[],
  timeoutMillis: number,
): Promise<RedisReply> {
  const [name, ...rest] = args;
  const reply = client.callBuffer(
    String(name),
    ...rest.map((arg) =>
      typeof arg === "string" ? arg : asBuffer(
        ioredis.Buffer,
        arg instanceof Uint8Array ? arg : concatBytes(arg, argBytes(arg)),
      )
    ),
  );
  try {
    return normalize(
      await withDeadline(
        reply,
        ageDeadlineMillis(timeoutMillis, args, String(name).startsWith("GET") ? VALUE_BYTES : 0),
        String(name),
      ),
    );
  } catch (error) {
    if (error instanceof ioredis.ReplyError) throw errorFromReply(error.message);
    if (error instanceof DeadlineError) throw error;
    throw new RemoteUnavailableError(messageOf(error), { cause: error });
  }
}

/** ioredis' reply as a {@linkcode RedisReply}: Buffers as plain byte arrays. */
function normalize(reply: unknown): RedisReply {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "number") return reply;
  if (typeof reply === "string") return new TextEncoder().encode(reply);
  if (Array.isArray(reply)) return reply.map(normalize);
  const bytes = reply as Uint8Array;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function asBuffer(buffer: typeof Buffer, bytes: Uint8Array): Buffer {
  return buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function createClient(ioredis: Ioredis, options: IoredisTransportOptions): Client {
  const tls = options.tls;
  const common: RedisOptions = {
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMillis,
    maxRetriesPerRequest: 0,
    // Reading ioredis' own package.json for CLIENT SETINFO needs a read permission we do
    // not grant, and when it is denied a failed TLS handshake can hang connect() forever.
    disableClientInfo: true,
    // Keep trying in the background (the circuit breaker decides whether to use it).
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
  };
  if (options.sentinels !== undefined) {
    return new ioredis.Redis({
      ...common,
      ...(tls === undefined ? {} : { tls }),
      sentinels: options.sentinels.addresses.map(({ host, port }) => ({ host, port })),
      name: options.sentinels.name,
      sentinelRetryStrategy: (times: number) => (times > 3 ? null : 200 * times),
      enableOfflineQueue: false,
    });
  }
  const nodes = options.nodes ?? [];
  const { retryStrategy: _unused, ...redisOptions } = {
    ...common,
    ...(tls === undefined ? {} : { tls }),
  };
  const clusterOptions: ClusterOptions = {
    lazyConnect: true,
    redisOptions,
    slotsRefreshTimeout: options.connectTimeoutMillis,
    clusterRetryStrategy: (times: number) => Math.min(200 * times, 2000),
    enableOfflineQueue: false,
  };
  return new ioredis.Cluster(nodes.map(({ host, port }) => ({ host, port })), clusterOptions);
}
