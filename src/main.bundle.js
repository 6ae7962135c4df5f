var __defProp = Object.defineProperty;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __esm = (fn, res) => function __init() {
  return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
};
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};

// src/store.ts
function bytesReader(bytes) {
  return {
    size: bytes.length,
    read: (offset, length) => Promise.resolve(bytes.slice(offset, offset + length))
  };
}
var DEFAULT_REMOTE_TIMEOUT_MILLIS, MAX_REMOTE_ENTRY_BYTES, DEFAULT_CONNECT_TIMEOUT_MILLIS;
var init_store = __esm({
  "src/store.ts"() {
    DEFAULT_REMOTE_TIMEOUT_MILLIS = 1e3;
    MAX_REMOTE_ENTRY_BYTES = 512 << 20;
    DEFAULT_CONNECT_TIMEOUT_MILLIS = 1e4;
  }
});

// src/redis/defaults.ts
var DEFAULT_SENTINEL_NAME, DEFAULT_REDIS_TTL_MILLIS;
var init_defaults = __esm({
  "src/redis/defaults.ts"() {
    DEFAULT_SENTINEL_NAME = "mymaster";
    DEFAULT_REDIS_TTL_MILLIS = 7 * 24 * 3600 * 1e3;
  }
});

// src/tiered/defaults.ts
var DEFAULT_UPLOAD_CONCURRENCY, DEFAULT_MAX_QUEUED_UPLOADS, DEFAULT_UPLOAD_WAIT_MILLIS, UPLOAD_BYTES_IN_FLIGHT, DEFAULT_PREFETCH_MAX_BYTES, DEFAULT_PREFETCH_WINDOW, DEFAULT_PREFETCH_WINDOW_BYTES, DEFAULT_BREAKER_COOLDOWN_MILLIS, DEFAULT_BREAKER_FAILURE_THRESHOLD, DEFAULT_FLEET_WAIT_MILLIS, DEFAULT_FLEET_LEASE_MILLIS;
var init_defaults2 = __esm({
  "src/tiered/defaults.ts"() {
    DEFAULT_UPLOAD_CONCURRENCY = 4;
    DEFAULT_MAX_QUEUED_UPLOADS = 1e4;
    DEFAULT_UPLOAD_WAIT_MILLIS = 5e3;
    UPLOAD_BYTES_IN_FLIGHT = 128 << 20;
    DEFAULT_PREFETCH_MAX_BYTES = 4 * 1024 ** 3;
    DEFAULT_PREFETCH_WINDOW = 32;
    DEFAULT_PREFETCH_WINDOW_BYTES = 32 << 20;
    DEFAULT_BREAKER_COOLDOWN_MILLIS = 5e3;
    DEFAULT_BREAKER_FAILURE_THRESHOLD = 3;
    DEFAULT_FLEET_WAIT_MILLIS = 6e4;
    DEFAULT_FLEET_LEASE_MILLIS = 5e3;
  }
});

// src/local/store_files.ts
function storeFilePath(dir, id, kind) {
  return `${dir}/${id.slice(0, 2)}/${id}-${kind}`;
}
function shardPath(dir, shard) {
  return `${dir}/${shard.toString(16).padStart(2, "0")}`;
}
function isStoreFileName(name) {
  return STORE_FILE.test(name);
}
function isTemporaryFileName(name) {
  return name.includes(TEMPORARY_MARK);
}
function temporaryPath(finalPath) {
  temporaryCounter++;
  const slash = finalPath.lastIndexOf("/");
  const name = finalPath.slice(slash + 1);
  const random = Math.floor(Math.random() * 4294967296).toString(36);
  const unique = `${Deno.pid.toString(36)}${temporaryCounter.toString(36)}${random}`;
  const keep = Math.max(0, name.length - TEMPORARY_MARK.length - unique.length);
  return `${finalPath.slice(0, slash + 1)}${name.slice(0, keep)}${TEMPORARY_MARK}${unique}`;
}
function forEachStoreFile(dir, each) {
  for (let shard = 0; shard < SHARD_COUNT; shard++) {
    const shardDir = shardPath(dir, shard);
    let entries;
    try {
      entries = [
        ...Deno.readDirSync(shardDir)
      ];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    for (const entry of entries) {
      if (entry.isFile && (isStoreFileName(entry.name) || isTemporaryFileName(entry.name))) {
        each(`${shardDir}/${entry.name}`, entry.name);
      }
    }
  }
}
function measureStore(dir) {
  const usage2 = {
    entries: 0,
    files: 0,
    bytes: 0
  };
  forEachStoreFile(dir, (path, name) => {
    usage2.files++;
    if (name.endsWith("-a")) usage2.entries++;
    try {
      usage2.bytes += Deno.statSync(path).size;
    } catch {
    }
  });
  return usage2;
}
var SHARD_COUNT, STORE_FILE, TEMPORARY_MARK, temporaryCounter;
var init_store_files = __esm({
  "src/local/store_files.ts"() {
    SHARD_COUNT = 256;
    STORE_FILE = /-[ads]$/;
    TEMPORARY_MARK = ".tmp-";
    temporaryCounter = 0;
  }
});

// src/local/trim.ts
function trimStore(dir, options) {
  const now = options.now ?? Date.now();
  const result = {
    ran: false,
    complete: false,
    filesRemoved: 0,
    bytesRemoved: 0,
    bytesKept: 0,
    filesKeptInUse: 0,
    bytesKeptInUse: 0,
    shardsScanned: 0
  };
  const state = readState(dir);
  const due = options.force === true || state.nextShard > 0 || now - state.lastComplete >= DAY || now < state.lastComplete - HOUR;
  if (!due || !takeLock(dir, now)) return result;
  try {
    result.ran = true;
    const started = performance.now();
    let shard = options.force === true ? 0 : state.nextShard;
    let carry = shard === 0 ? 0 : state.carry;
    while (shard < SHARD_COUNT) {
      const allowance = options.maxSizeBytes === void 0 ? void 0 : options.maxSizeBytes / SHARD_COUNT + carry;
      const kept = trimShard(shardPath(dir, shard), options, now, allowance, result);
      if (allowance !== void 0) carry = allowance - kept;
      result.shardsScanned++;
      shard++;
      if (options.budgetMillis !== void 0 && performance.now() - started > options.budgetMillis) break;
    }
    result.complete = shard === SHARD_COUNT;
    const next = result.complete ? {
      lastComplete: now,
      nextShard: 0,
      carry: 0
    } : {
      lastComplete: state.lastComplete,
      nextShard: shard,
      carry
    };
    writeState(dir, next);
  } finally {
    Deno.removeSync(`${dir}/${LOCK_FILE}`);
  }
  return result;
}
function trimShard(shardDir, options, now, allowance, result) {
  let names;
  try {
    names = [
      ...Deno.readDirSync(shardDir)
    ].filter((entry) => entry.isFile).map((entry) => entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
  const ageCutoff = now - Math.max(options.ageMillis, IN_USE_MILLIS) - HOUR;
  const kept = [];
  for (const name of names) {
    const temporary = isTemporaryFileName(name);
    if (!temporary && !isStoreFileName(name)) continue;
    const path = `${shardDir}/${name}`;
    let info;
    try {
      info = Deno.statSync(path);
    } catch {
      continue;
    }
    const mtime = info.mtime?.getTime() ?? now;
    const stale = temporary ? mtime < now - STALE_TEMPORARY_MILLIS : mtime < ageCutoff;
    if (stale) remove(path, info.size, result);
    else if (!temporary) kept.push({
      path,
      size: info.size,
      mtime
    });
  }
  let shardBytes = kept.reduce((sum, file) => sum + file.size, 0);
  let removedOldest = 0;
  if (allowance !== void 0 && shardBytes > allowance) {
    kept.sort((a, b) => a.mtime - b.mtime);
    for (const file of kept) {
      if (shardBytes <= allowance) break;
      if (file.mtime > now - IN_USE_MILLIS) break;
      remove(file.path, file.size, result);
      shardBytes -= file.size;
      removedOldest++;
    }
  }
  result.bytesKept += shardBytes;
  for (const file of allowance === void 0 ? kept : kept.slice(removedOldest)) {
    if (file.mtime > now - IN_USE_MILLIS) {
      result.filesKeptInUse++;
      result.bytesKeptInUse += file.size;
    }
  }
  return shardBytes;
}
function remove(path, size, result) {
  try {
    Deno.removeSync(path);
    result.filesRemoved++;
    result.bytesRemoved += size;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
function readState(dir) {
  try {
    const state = JSON.parse(Deno.readTextFileSync(`${dir}/${TRIM_STATE_FILE}`));
    if (typeof state.lastComplete === "number" && Number.isInteger(state.nextShard)) {
      return {
        lastComplete: state.lastComplete,
        nextShard: Math.min(Math.max(state.nextShard, 0), 255),
        carry: typeof state.carry === "number" ? state.carry : 0
      };
    }
  } catch {
  }
  return {
    lastComplete: 0,
    nextShard: 0,
    carry: 0
  };
}
function writeState(dir, state) {
  const path = `${dir}/${TRIM_STATE_FILE}`;
  const temporary = temporaryPath(path);
  Deno.writeTextFileSync(temporary, JSON.stringify(state) + "\n");
  Deno.renameSync(temporary, path);
}
function takeLock(dir, now) {
  const path = `${dir}/${LOCK_FILE}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      Deno.writeTextFileSync(path, `${Deno.pid}
`, {
        createNew: true
      });
      return true;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      try {
        const age = now - (Deno.statSync(path).mtime?.getTime() ?? now);
        if (age < STALE_LOCK_MILLIS) return false;
        Deno.removeSync(path);
      } catch {
      }
    }
  }
  return false;
}
var DEFAULT_TRIM_AGE_MILLIS, TRIM_STATE_FILE, LOCK_FILE, HOUR, DAY, IN_USE_MILLIS, STALE_TEMPORARY_MILLIS, STALE_LOCK_MILLIS;
var init_trim = __esm({
  "src/local/trim.ts"() {
    init_store_files();
    DEFAULT_TRIM_AGE_MILLIS = 5 * 24 * 3600 * 1e3;
    TRIM_STATE_FILE = "gocacheprog-trim.json";
    LOCK_FILE = "gocacheprog-trim.lock";
    HOUR = 36e5;
    DAY = 24 * HOUR;
    IN_USE_MILLIS = 2 * HOUR;
    STALE_TEMPORARY_MILLIS = DAY;
    STALE_LOCK_MILLIS = 10 * 6e4;
  }
});

// src/cli/flags.ts
var FLAG_ROWS, FLAGS, ENV_VARIABLES;
var init_flags = __esm({
  "src/cli/flags.ts"() {
    init_store();
    init_defaults();
    init_defaults2();
    init_trim();
    FLAG_ROWS = [
      {
        key: "dir",
        name: "dir",
        kind: "string",
        env: "GOCACHEPROG_DIR",
        envFallback: "GOCACHE",
        defaultText: "$GOCACHE",
        valueName: "DIR",
        description: "cache directory, in the go command's GOCACHE layout"
      },
      {
        key: "logMetrics",
        name: "log-metrics",
        kind: "boolean",
        env: "GOCACHEPROG_LOG_METRICS",
        description: "print a summary of gets, hits, misses, puts, bytes and time at exit"
      },
      {
        key: "logRequests",
        name: "log-req",
        aliases: [
          "log-requests"
        ],
        kind: "boolean",
        env: "GOCACHEPROG_LOG_REQ",
        description: "print one line per request to stderr (never the body)"
      },
      {
        key: "logResponses",
        name: "log-resp",
        aliases: [
          "log-responses"
        ],
        kind: "boolean",
        env: "GOCACHEPROG_LOG_RESP",
        description: "print one line per response to stderr, with its duration"
      },
      {
        key: "redisUrls",
        name: "redis-url",
        aliases: [
          "r-urls"
        ],
        kind: "list",
        env: "GOCACHEPROG_REDIS_URL",
        defaultText: "none: local only",
        valueName: "URL",
        description: "Redis to share the cache through: host:port, redis://[user:password@]host:port[/db] or rediss:// for TLS; repeat or separate with commas; several addresses mean a Redis Cluster"
      },
      {
        key: "redisSentinels",
        name: "redis-sentinel",
        kind: "list",
        env: "GOCACHEPROG_REDIS_SENTINEL",
        valueName: "HOST:PORT",
        description: "Redis Sentinel addresses (with --redis-sentinel-name) instead of --redis-url"
      },
      {
        key: "redisSentinelName",
        name: "redis-sentinel-name",
        kind: "string",
        env: "GOCACHEPROG_REDIS_SENTINEL_NAME",
        default: DEFAULT_SENTINEL_NAME,
        valueName: "NAME",
        description: "the Sentinel master group's name"
      },
      {
        key: "redisUser",
        name: "redis-user",
        aliases: [
          "r-usr"
        ],
        kind: "string",
        env: "GOCACHEPROG_REDIS_USER",
        valueName: "USER",
        description: "Redis ACL user name"
      },
      {
        key: "redisPassword",
        name: "redis-password",
        aliases: [
          "r-pwd"
        ],
        kind: "string",
        env: "GOCACHEPROG_REDIS_PASSWORD",
        valueName: "PASSWORD",
        description: "Redis password; prefer the environment variable or --redis-password-file: the GOCACHEPROG string shows in `go env` and in process lists"
      },
      {
        key: "redisPasswordFile",
        name: "redis-password-file",
        kind: "string",
        env: "GOCACHEPROG_REDIS_PASSWORD_FILE",
        valueName: "FILE",
        description: "read the Redis password from this file (its first line)"
      },
      {
        key: "redisPrefix",
        name: "redis-prefix",
        aliases: [
          "r-prefix"
        ],
        kind: "string",
        env: "GOCACHEPROG_REDIS_PREFIX",
        default: "",
        defaultText: "none",
        valueName: "PREFIX",
        description: "namespace for the keys, for example one per project or trust domain (no { or })"
      },
      {
        key: "redisTlsCa",
        name: "redis-tls-ca",
        kind: "string",
        env: "GOCACHEPROG_REDIS_TLS_CA",
        valueName: "FILE",
        description: "CA certificate (PEM) to verify the Redis server with; implies TLS"
      },
      {
        key: "redisTlsCert",
        name: "redis-tls-cert",
        kind: "string",
        env: "GOCACHEPROG_REDIS_TLS_CERT",
        valueName: "FILE",
        description: "client certificate (PEM) for mutual TLS; implies TLS"
      },
      {
        key: "redisTlsKey",
        name: "redis-tls-key",
        kind: "string",
        env: "GOCACHEPROG_REDIS_TLS_KEY",
        valueName: "FILE",
        description: "client private key (PEM) for mutual TLS"
      },
      {
        key: "redisTtlMillis",
        name: "redis-ttl",
        kind: "duration",
        env: "GOCACHEPROG_REDIS_TTL",
        default: DEFAULT_REDIS_TTL_MILLIS,
        valueName: "DURATION",
        description: "how long an entry lives in Redis after its last use"
      },
      {
        key: "redisTimeoutMillis",
        name: "redis-timeout",
        kind: "duration",
        env: "GOCACHEPROG_REDIS_TIMEOUT",
        default: DEFAULT_REMOTE_TIMEOUT_MILLIS,
        valueName: "DURATION",
        description: "how long a Redis operation may go without a byte moving (big transfers are also given 1 s per MB); and how long a get waits for connecting"
      },
      {
        key: "redisConnectTimeoutMillis",
        name: "redis-connect-timeout",
        kind: "duration",
        env: "GOCACHEPROG_REDIS_CONNECT_TIMEOUT",
        default: DEFAULT_CONNECT_TIMEOUT_MILLIS,
        valueName: "DURATION",
        description: "how long connecting to a Redis Cluster or Sentinel may take (loading the client, discovering the nodes), in the background while builds go on from local disk; uploads wait for it"
      },
      {
        key: "uploadWaitMillis",
        name: "upload-wait",
        kind: "duration",
        env: "GOCACHEPROG_UPLOAD_WAIT",
        default: DEFAULT_UPLOAD_WAIT_MILLIS,
        valueName: "DURATION",
        description: "at exit, how long to wait for uploads still running"
      },
      {
        key: "fleetWaitMillis",
        name: "fleet-wait",
        kind: "duration",
        env: "GOCACHEPROG_FLEET_WAIT",
        default: DEFAULT_FLEET_WAIT_MILLIS,
        valueName: "DURATION",
        description: "how long a get may wait for another runner sharing the Redis to compile the same action, rather than compile it too (single flight); 0 turns it off"
      },
      {
        key: "readOnly",
        name: "read-only",
        kind: "boolean",
        env: "GOCACHEPROG_READ_ONLY",
        description: "read from Redis but never write to it (for untrusted jobs)"
      },
      {
        key: "compress",
        name: "compress",
        kind: "string",
        env: "GOCACHEPROG_COMPRESS",
        choices: [
          "none",
          "zstd"
        ],
        default: "none",
        valueName: "none|zstd",
        description: "compression of the bodies stored in Redis; local files stay plain"
      },
      {
        key: "metricsFile",
        name: "metrics-file",
        kind: "string",
        env: "GOCACHEPROG_METRICS_FILE",
        defaultText: "none",
        valueName: "FILE",
        description: "append one JSON line of metrics per go command to FILE (for `gocacheprog stats`)"
      },
      {
        key: "trimAgeMillis",
        name: "trim-age",
        kind: "duration",
        env: "GOCACHEPROG_TRIM_AGE",
        default: DEFAULT_TRIM_AGE_MILLIS,
        valueName: "DURATION",
        description: "remove local entries unused for this long, once a day; 0 turns trimming off"
      },
      {
        key: "maxSizeBytes",
        name: "max-size",
        kind: "size",
        env: "GOCACHEPROG_MAX_SIZE",
        defaultText: "none",
        valueName: "SIZE",
        description: "also remove the least recently used local entries beyond this size (such as 10G)"
      },
      {
        key: "clearLocal",
        name: "local",
        kind: "boolean",
        description: "with `clear`: empty the local store"
      },
      {
        key: "clearRemote",
        name: "remote",
        kind: "boolean",
        description: "with `clear`: delete the keys under the prefix in Redis (nothing else)"
      },
      {
        key: "buildType",
        name: "build-type",
        kind: "string",
        env: "GOCACHEPROG_BUILD_TYPE",
        defaultText: "CI job name",
        valueName: "NAME",
        description: "the kind of build whose manifests are read and written"
      },
      {
        key: "manifestScope",
        name: "manifest-scope",
        kind: "string",
        env: "GOCACHEPROG_MANIFEST_SCOPE",
        defaultText: "from CI",
        valueName: "SCOPE",
        description: "this build's manifest scope: mr:<iid>, pr:<n> or ref:<branch>"
      },
      {
        key: "manifestBase",
        name: "manifest-base",
        kind: "string",
        env: "GOCACHEPROG_MANIFEST_BASE",
        defaultText: "from CI",
        valueName: "BRANCH",
        description: "the branch a merge or pull request targets"
      },
      {
        key: "manifestDefault",
        name: "manifest-default",
        kind: "string",
        env: "GOCACHEPROG_MANIFEST_DEFAULT",
        defaultText: "from CI, else main",
        valueName: "BRANCH",
        description: "the default branch"
      },
      {
        key: "manifest",
        name: "manifest",
        kind: "boolean",
        env: "GOCACHEPROG_MANIFEST",
        defaultText: "on in CI",
        description: "write build manifests outside CI too (so do --manifest-scope and --build-type)"
      },
      {
        key: "prefetchMaxBytes",
        name: "prefetch-max-bytes",
        kind: "size",
        env: "GOCACHEPROG_PREFETCH_MAX_BYTES",
        default: DEFAULT_PREFETCH_MAX_BYTES,
        valueName: "SIZE",
        description: "prefetch at most this much from build manifests; 0 turns prefetching off"
      },
      {
        key: "speculate",
        name: "speculate",
        kind: "boolean",
        env: "GOCACHEPROG_SPECULATE",
        default: true,
        description: "fetch a compile's stdout companion in the same round trip"
      },
      {
        key: "help",
        name: "help",
        aliases: [
          "h"
        ],
        kind: "boolean",
        description: "show this help and exit"
      },
      {
        key: "version",
        name: "version",
        kind: "boolean",
        description: "print the version and exit"
      }
    ];
    FLAGS = FLAG_ROWS;
    ENV_VARIABLES = [
      ...new Set(FLAGS.flatMap((spec) => [
        spec.env,
        spec.envFallback
      ].filter((name) => name !== void 0)))
    ];
  }
});

// src/cli/units.ts
function parseDuration(text2) {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text2.trim());
  if (match === null) return void 0;
  const unit = DURATION_UNITS.find(([name]) => name === (match[2] ?? "s"))[1];
  return Math.round(Number(match[1]) * unit);
}
function formatDuration(millis) {
  const [name, size] = DURATION_UNITS.find(([, size2]) => millis % size2 === 0 && millis >= size2) ?? [
    "ms",
    1
  ];
  return `${millis / size}${name}`;
}
function parseSize(text2) {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text2.trim());
  if (match === null) return void 0;
  const unit = match[2].toUpperCase();
  const power = unit === "" ? 0 : SIZE_UNITS.indexOf(unit) + 1;
  return Math.round(Number(match[1]) * 1024 ** power);
}
function formatSize(bytes) {
  for (let power = SIZE_UNITS.length; power > 0; power--) {
    const unit = 1024 ** power;
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${SIZE_UNITS[power - 1]}`;
  }
  return String(bytes);
}
var DURATION_UNITS, SIZE_UNITS;
var init_units = __esm({
  "src/cli/units.ts"() {
    DURATION_UNITS = [
      [
        "d",
        864e5
      ],
      [
        "h",
        36e5
      ],
      [
        "m",
        6e4
      ],
      [
        "s",
        1e3
      ],
      [
        "ms",
        1
      ]
    ];
    SIZE_UNITS = "KMGT";
  }
});

// src/errors.ts
function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}
function errorKind(error) {
  return error instanceof Error ? error.name : typeof error;
}
var DeadlineError, CorruptEntryError, EntryTooLargeError, RemoteFullError, RemoteAuthError, RemoteTlsError, RemoteUnavailableError, ClosedError, UsageError;
var init_errors = __esm({
  "src/errors.ts"() {
    DeadlineError = class extends Error {
      /** What timed out, such as `GETEX` or `connecting`. */
      operation;
      /** The deadline that was missed, in milliseconds. */
      millis;
      /**
       * Creates the error.
       *
       * @param operation What timed out.
       * @param millis The deadline that was missed, in milliseconds.
       * @param options The underlying error, if any.
       */
      constructor(operation, millis, options) {
        super(`${operation} timed out after ${Math.round(millis)} ms`, options);
        this.name = "DeadlineError";
        this.operation = operation;
        this.millis = millis;
      }
    };
    CorruptEntryError = class extends Error {
      /**
       * Creates the error.
       *
       * @param message What is wrong with the value.
       * @param options The underlying error, if any (a failed decompression, say).
       */
      constructor(message, options) {
        super(message, options);
        this.name = "CorruptEntryError";
      }
    };
    EntryTooLargeError = class extends Error {
      /** The entry's size, as its header says. */
      size;
      /** The most the caller allowed. */
      limit;
      /**
       * Creates the error.
       *
       * @param size The entry's size.
       * @param limit The most the caller allowed.
       * @param options The underlying error, if any.
       */
      constructor(size, limit, options) {
        super(`the entry holds ${size} bytes, more than the ${limit} expected`, options);
        this.name = "EntryTooLargeError";
        this.size = size;
        this.limit = limit;
      }
    };
    RemoteFullError = class extends Error {
      /**
       * Creates the error.
       *
       * @param message The store's own words.
       * @param options The underlying error, if any.
       */
      constructor(message, options) {
        super(message, options);
        this.name = "RemoteFullError";
      }
    };
    RemoteAuthError = class extends Error {
      /**
       * Creates the error.
       *
       * @param message The store's own words; never a credential.
       * @param options The underlying error, if any.
       */
      constructor(message, options) {
        super(message, options);
        this.name = "RemoteAuthError";
      }
    };
    RemoteTlsError = class extends Error {
      /**
       * Creates the error.
       *
       * @param message What failed.
       * @param options The underlying error.
       */
      constructor(message, options) {
        super(message, options);
        this.name = "RemoteTlsError";
      }
    };
    RemoteUnavailableError = class extends Error {
      /**
       * Creates the error.
       *
       * @param message Why, naming the store but never a credential.
       * @param options The underlying error, if any.
       */
      constructor(message, options) {
        super(message, options);
        this.name = "RemoteUnavailableError";
      }
    };
    ClosedError = class extends Error {
      /**
       * Creates the error.
       *
       * @param message What was closed.
       * @param options The underlying error, if any.
       */
      constructor(message, options) {
        super(message, options);
        this.name = "ClosedError";
      }
    };
    UsageError = class extends Error {
      /**
       * Creates the error.
       *
       * @param message What is wrong, naming the flag or variable but never a value given.
       * @param options The underlying error, if any.
       */
      constructor(message, options) {
        super(message, options);
        this.name = "UsageError";
      }
    };
  }
});

// src/redis/address.ts
function parseRedisAddress(text2) {
  const withScheme = /^[a-z]+:\/\//i.test(text2) ? text2 : `redis://${text2}`;
  let url;
  try {
    url = new URL(withScheme);
  } catch {
    const port2 = /:(\d+)(?:\/\d*)?$/.exec(withScheme.replace(/^[a-z]+:\/\/[^@/]*@/i, ""))?.[1];
    if (port2 !== void 0 && Number(port2) > 65535) {
      throw new InvalidRedisAddressError(unreadable("its port is not between 1 and 65535"));
    }
    throw new InvalidRedisAddressError(unreadable("it is not a URL"));
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new InvalidRedisAddressError(unreadable("it does not start with redis:// or rediss://"));
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new InvalidRedisAddressError(unreadable("it has no host"));
  const port = url.port === "" ? 6379 : Number(url.port);
  if (port === 0) {
    throw new InvalidRedisAddressError(unreadable("its port is not between 1 and 65535"));
  }
  const path = url.pathname.replace(/^\//, "");
  const db = path === "" ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0) {
    throw new InvalidRedisAddressError(unreadable("its database number is not a number"));
  }
  const address = {
    host,
    port,
    db,
    tls: url.protocol === "rediss:"
  };
  if (url.username !== "") address.username = decodeURIComponent(url.username);
  if (url.password !== "") address.password = decodeURIComponent(url.password);
  return address;
}
function hostPort(address) {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
function unreadable(why) {
  return `Cannot read a Redis address (${why}): write host:port, or redis://[user:password@]host[:port][/db] with reserved characters in the password percent-encoded (or give the password in GOCACHEPROG_REDIS_PASSWORD)`;
}
function prefixProblem(prefix) {
  return /[{}]/.test(prefix) ? "the Redis prefix may not hold { or }: they would make it the Cluster hash tag of every key" : void 0;
}
var InvalidRedisAddressError;
var init_address = __esm({
  "src/redis/address.ts"() {
    InvalidRedisAddressError = class extends TypeError {
      /**
       * Creates the error.
       *
       * @param message Why, never repeating the address (it may hold a password).
       */
      constructor(message) {
        super(message);
        this.name = "InvalidRedisAddressError";
      }
    };
  }
});

// src/cli/config.ts
function parseConfig(args, env) {
  const values = /* @__PURE__ */ new Map();
  let command;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("-") && command === void 0 && !help) {
      if (arg === "help") {
        help = true;
        continue;
      }
      command = commandNamed(arg);
      continue;
    }
    if (arg === "--" || !arg.startsWith("-") || arg === "-") {
      throw new UsageError(`Unexpected argument number ${i + 1}: after the command, every argument is a flag`);
    }
    const body = arg.replace(/^--?/, "");
    const equals = body.indexOf("=");
    const name = equals >= 0 ? body.slice(0, equals) : body;
    const spec = findFlag(name);
    if (spec === void 0) {
      throw new UsageError(`Unknown flag "${arg.startsWith("--") ? "--" : "-"}${name}"`);
    }
    const source = `flag --${spec.name}`;
    if (spec.kind === "boolean") {
      values.set(spec, equals >= 0 ? parseBoolean(body.slice(equals + 1), source) : true);
      continue;
    }
    let value;
    if (equals >= 0) {
      value = body.slice(equals + 1);
    } else {
      const next = args[i + 1];
      if (next === void 0) throw new UsageError(`The ${source} needs a value`);
      value = next;
      i++;
    }
    if (value === "") throw new UsageError(`The ${source} needs a non-empty value`);
    values.set(spec, parseValue(spec, value, source, values.get(spec)));
  }
  const fromCommandLine = new Set(values.keys());
  for (const spec of FLAGS) {
    if (values.has(spec)) continue;
    for (const variable of [
      spec.env,
      spec.envFallback
    ]) {
      if (variable === void 0) continue;
      const value = env(variable);
      if (value === void 0 || value === "") continue;
      values.set(spec, spec.kind === "boolean" ? parseBoolean(value, variable) : parseValue(spec, value, variable, void 0));
      break;
    }
  }
  const settings = {};
  for (const spec of FLAGS) {
    const value = values.get(spec) ?? spec.default ?? (spec.kind === "boolean" ? false : spec.kind === "list" ? [] : void 0);
    if (value !== void 0) settings[spec.key] = value;
  }
  const config = {
    ...settings,
    ...help ? {
      help: true
    } : {},
    command: command ?? "serve",
    redisPasswordOnCommandLine: [
      ...fromCommandLine
    ].some((spec) => spec.key === "redisPassword")
  };
  checkConfig(config);
  return config;
}
function commandNamed(word) {
  if (word in COMMANDS) return word;
  const known = Object.keys(COMMANDS);
  const lower = word.toLowerCase();
  const named = /^[A-Za-z][A-Za-z-]{0,20}$/.test(word) ? ` "${word}"` : "";
  const meant = known.includes(lower) ? ` (did you mean "${lower}"?)` : "";
  throw new UsageError(`Unknown command${named}${meant}: the commands are ${known.join(", ")}`);
}
function checkConfig(config) {
  const prefix = prefixProblem(config.redisPrefix);
  if (prefix !== void 0) throw new UsageError(`--redis-prefix: ${prefix}`);
  if (config.redisTtlMillis < 1e3) throw new UsageError("--redis-ttl must be at least 1s");
  if (config.command === "prefetch" && config.redisUrls.length === 0 && config.redisSentinels.length === 0) {
    throw new UsageError("prefetch needs Redis: give --redis-url or --redis-sentinel");
  }
  if (config.command === "clear" && config.clearLocal === config.clearRemote) {
    throw new UsageError("clear takes exactly one of --local and --remote");
  }
}
function parseValue(spec, value, source, previous) {
  switch (spec.kind) {
    case "list": {
      const items = value.split(",").map((item) => item.trim()).filter((item) => item !== "");
      return [
        ...Array.isArray(previous) ? previous : [],
        ...items
      ];
    }
    case "size": {
      const bytes = parseSize(value);
      if (bytes === void 0) {
        throw new UsageError(`The ${source} takes a size such as 500M or 10G`);
      }
      return bytes;
    }
    case "duration": {
      const millis = parseDuration(value);
      if (millis === void 0) {
        throw new UsageError(`The ${source} takes a duration such as 500ms, 2s or 7d`);
      }
      return millis;
    }
    default:
      if (spec.choices !== void 0 && !spec.choices.includes(value)) {
        throw new UsageError(`The ${source} takes ${spec.choices.join(" or ")}`);
      }
      return value;
  }
}
function findFlag(name) {
  return FLAGS.find((spec) => spec.name === name || (spec.aliases ?? []).includes(name));
}
function parseBoolean(value, source) {
  switch (value.toLowerCase()) {
    case "1":
    case "true":
    case "yes":
    case "on":
      return true;
    case "0":
    case "false":
    case "no":
    case "off":
      return false;
    default:
      throw new UsageError(`The ${source} takes true or false`);
  }
}
var COMMANDS;
var init_config = __esm({
  "src/cli/config.ts"() {
    init_flags();
    init_units();
    init_errors();
    init_address();
    COMMANDS = {
      serve: "serve the go command over stdin and stdout (the default; what GOCACHEPROG runs)",
      prefetch: "fill the local store from Redis with what the build manifests list, then exit (a CI step at job start)",
      stats: "the local store's size, Redis' state and keys, and with --metrics-file the job's totals",
      trim: "one trim pass of the local store now",
      clear: "empty the local store (--local) or this prefix's keys in Redis (--remote)",
      doctor: "check Go, the cache directory, Redis and the permissions, and say how to fix problems"
    };
  }
});

// src/tiered/build_env.ts
function toolchainOf(env) {
  return GO_ENV_VARIABLES.map((name) => [
    name,
    env(name)
  ]).filter(([, value]) => value !== void 0 && value !== "").map(([name, value]) => `${name}=${value}`).join("\n");
}
var CI_ENV_VARIABLES, GO_ENV_VARIABLES;
var init_build_env = __esm({
  "src/tiered/build_env.ts"() {
    CI_ENV_VARIABLES = [
      "GITLAB_CI",
      "CI_JOB_NAME",
      "CI_JOB_ID",
      "CI_MERGE_REQUEST_IID",
      "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
      "CI_COMMIT_REF_NAME",
      "CI_DEFAULT_BRANCH",
      "GITHUB_ACTIONS",
      "GITHUB_WORKFLOW",
      "GITHUB_JOB",
      "GITHUB_REF",
      "GITHUB_REF_NAME",
      "GITHUB_BASE_REF",
      "GITHUB_RUN_ID",
      "GITHUB_RUN_ATTEMPT"
    ];
    GO_ENV_VARIABLES = [
      "GOVERSION",
      "GOOS",
      "GOARCH",
      "GOAMD64",
      "GOARM",
      "GOARM64",
      "GO386",
      "GOEXPERIMENT",
      "CGO_ENABLED"
    ];
  }
});

// src/cli/remote_settings.ts
function redisEndpoints(config) {
  return [
    ...config.redisUrls,
    ...config.redisSentinels
  ].map((url) => {
    try {
      return hostPort(parseRedisAddress(url));
    } catch (error) {
      if (error instanceof InvalidRedisAddressError) {
        throw new UsageError(error.message, {
          cause: error
        });
      }
      throw error;
    }
  });
}
function readRemoteSettings(config) {
  if (config.redisUrls.length === 0 && config.redisSentinels.length === 0) return void 0;
  redisEndpoints(config);
  if (config.redisTlsCert === void 0 !== (config.redisTlsKey === void 0)) {
    throw new UsageError("--redis-tls-cert and --redis-tls-key go together: a client certificate for mutual TLS needs its private key, and a key its certificate");
  }
  const readFile = (path, what) => {
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      throw new RemoteSettingsError(`cannot read the ${what} file "${path}" (${messageOf(error)})`, {
        cause: error
      });
    }
  };
  let password = config.redisPassword;
  if (password === void 0 && config.redisPasswordFile !== void 0) {
    password = readFile(config.redisPasswordFile, "Redis password").split(/\r?\n/)[0];
  }
  const tls = {};
  if (config.redisTlsCa !== void 0) tls.ca = readFile(config.redisTlsCa, "TLS CA");
  if (config.redisTlsCert !== void 0) {
    tls.cert = readFile(config.redisTlsCert, "TLS certificate");
  }
  if (config.redisTlsKey !== void 0) tls.key = readFile(config.redisTlsKey, "TLS key");
  if (tls.cert !== void 0) checkClientCertificate(tls.cert, config.redisTlsCert);
  return {
    urls: config.redisUrls,
    sentinels: config.redisSentinels,
    sentinelName: config.redisSentinelName,
    ...config.redisUser === void 0 ? {} : {
      username: config.redisUser
    },
    ...password === void 0 ? {} : {
      password
    },
    ...Object.keys(tls).length === 0 ? {} : {
      tls
    },
    prefix: config.redisPrefix,
    ttlMillis: config.redisTtlMillis,
    timeoutMillis: config.redisTimeoutMillis,
    connectTimeoutMillis: config.redisConnectTimeoutMillis,
    refreshTtl: !config.readOnly,
    compress: config.compress
  };
}
function checkClientCertificate(pem, path) {
  const version = x509Version(pem);
  if (version === void 0 || version >= 3) return;
  throw new RemoteSettingsError(`the client certificate "${path}" is X.509 v${version}, which TLS here refuses: issue it as v3 (with openssl x509 -req, add -extfile with basicConstraints=CA:FALSE)`);
}
function x509Version(pem) {
  const body = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(pem)?.[1];
  if (body === void 0) return void 0;
  let der;
  try {
    der = Uint8Array.fromBase64(body.replace(/\s+/g, ""));
  } catch {
    return void 0;
  }
  const tbs = innerStart(der, 0);
  if (tbs === void 0 || der[tbs] !== 48) return void 0;
  const first = innerStart(der, tbs);
  if (first === void 0) return void 0;
  if (der[first] !== 160) return 1;
  const integer2 = innerStart(der, first);
  if (integer2 === void 0 || der[integer2] !== 2 || der[integer2 + 1] !== 1) return void 0;
  return der[integer2 + 2] + 1;
}
function innerStart(der, offset) {
  const length = der[offset + 1];
  if (length === void 0) return void 0;
  return length < 128 ? offset + 2 : offset + 2 + (length & 127);
}
function remoteSettingsOf(config) {
  try {
    const remote = readRemoteSettings(config);
    return remote === void 0 ? {} : {
      remote
    };
  } catch (error) {
    if (!(error instanceof RemoteSettingsError)) throw error;
    return {
      remoteProblem: error.message
    };
  }
}
var RemoteSettingsError;
var init_remote_settings = __esm({
  "src/cli/remote_settings.ts"() {
    init_address();
    init_errors();
    RemoteSettingsError = class extends Error {
      /**
       * Creates the error.
       *
       * @param message Which file, and why; never its contents.
       * @param options The underlying error.
       */
      constructor(message, options) {
        super(message, options);
        this.name = "RemoteSettingsError";
      }
    };
  }
});

// src/cli/permissions.ts
function needsWholeEnvironment(redis) {
  return redis.redisUrls.length > 1 || redis.redisSentinels.length > 0;
}
function readOwnEnv(name) {
  if (!ENV_VARIABLES.includes(name)) return void 0;
  return readEnvIfGranted(name);
}
function readEnvIfGranted(name) {
  if (Deno.permissions.querySync({
    name: "env",
    variable: name
  }).state !== "granted") {
    return void 0;
  }
  return Deno.env.get(name);
}
function permissionNeeds(config, dir, command = config.command) {
  const secrets = [
    config.redisPasswordFile,
    config.redisTlsCa,
    config.redisTlsCert,
    config.redisTlsKey
  ].filter((path) => path !== void 0);
  const serving = command === "serve" || command === "doctor";
  const metricsFile = config.metricsFile;
  const allEnv = needsWholeEnvironment(config);
  const endpoints = redisEndpoints(config);
  return {
    read: [
      dir,
      ...secrets,
      ...command === "stats" && metricsFile !== void 0 ? [
        metricsFile
      ] : []
    ],
    write: [
      dir,
      ...serving && metricsFile !== void 0 ? [
        metricsFile
      ] : []
    ],
    net: [
      ...new Set(allEnv ? endpoints.map(hostOf) : endpoints)
    ],
    allEnv
  };
}
function missingPermissionFlags(needs, query) {
  const read = needs.read.filter((path) => !query({
    name: "read",
    path
  }));
  const write = needs.write.filter((path) => !query({
    name: "write",
    path
  }));
  const net = needs.net.filter((host) => !query({
    name: "net",
    host
  }));
  return [
    ...read.length === 0 ? [] : [
      `--allow-read=${read.join(",")}`
    ],
    ...write.length === 0 ? [] : [
      `--allow-write=${write.join(",")}`
    ],
    ...net.length === 0 ? [] : [
      `--allow-net=${net.join(",")}`
    ],
    ...needs.allEnv && !query({
      name: "env"
    }) ? [
      "--allow-env"
    ] : []
  ];
}
function queryDenoPermission(descriptor) {
  return Deno.permissions.querySync(descriptor).state === "granted";
}
function hostOf(endpoint) {
  return endpoint.replace(/:\d+$/, "");
}
var ENV_PERMISSION, REDIS_ENV_PERMISSION;
var init_permissions = __esm({
  "src/cli/permissions.ts"() {
    init_build_env();
    init_flags();
    init_remote_settings();
    ENV_PERMISSION = "GOCACHE,GOCACHEPROG_*,HOME,XDG_CACHE_HOME";
    REDIS_ENV_PERMISSION = [
      ENV_PERMISSION,
      ...GO_ENV_VARIABLES,
      ...CI_ENV_VARIABLES
    ].join(",");
  }
});

// src/util/log.ts
function oneLine(message) {
  return message.includes("\n") ? message.replace(/\s*\n\s*/g, " / ") : message;
}
function writeStderrLine(line) {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  try {
    while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
  } catch {
  }
}
var Logger, encoder;
var init_log = __esm({
  "src/util/log.ts"() {
    Logger = class {
      #sink;
      #said = /* @__PURE__ */ new Set();
      /**
       * Creates a logger.
       *
       * @param sink Receives each finished line; defaults to synchronous writes to stderr.
       */
      constructor(sink = writeStderrLine) {
        this.#sink = sink;
      }
      /**
       * Writes one line, prefixed with `gocacheprog: `.
       *
       * @param message The text of the line.
       */
      info(message) {
        this.#sink(`gocacheprog: ${oneLine(message)}`);
      }
      /**
       * Writes a warning the first time a given `key` is seen, and nothing after that,
       * so a failing disk or remote produces one clear line instead of one per request.
       *
       * @param key What makes two warnings "the same".
       * @param message The text of the line.
       * @returns Whether the line was written.
       */
      warnOnce(key, message) {
        if (this.#said.has(key)) return false;
        this.#said.add(key);
        this.#sink(`gocacheprog: warning: ${oneLine(message)}`);
        return true;
      }
    };
    encoder = new TextEncoder();
  }
});

// src/util/bytes.ts
function freeBuffer(bytes) {
  if (bytes.buffer instanceof ArrayBuffer && !bytes.buffer.detached) bytes.buffer.transfer(0);
}
function concatBytes(parts, length) {
  if (parts.length === 1) return parts[0];
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
var init_bytes = __esm({
  "src/util/bytes.ts"() {
  }
});

// src/util/ids.ts
function base64IdToHex(base64) {
  if (base64.length !== 44) return void 0;
  let bytes;
  try {
    bytes = Uint8Array.fromBase64(base64, {
      lastChunkHandling: "strict"
    });
  } catch {
    return void 0;
  }
  return bytes.length === ID_BYTES ? bytes.toHex() : void 0;
}
function hexIdToBase64(hex) {
  return Uint8Array.fromHex(hex).toBase64();
}
function isHexId(hex) {
  return HEX_ID.test(hex);
}
var ID_BYTES, HEX_ID;
var init_ids = __esm({
  "src/util/ids.ts"() {
    ID_BYTES = 32;
    HEX_ID = /^[0-9a-f]{64}$/;
  }
});

// src/util/sha256.ts
function loadedSha256() {
  return loaded;
}
function loadSha256() {
  loading ??= import("node:crypto").then(({ createHash }) => loaded = () => {
    const hash = createHash("sha256");
    return {
      update(data) {
        hash.update(data);
      },
      digestHex() {
        return hash.digest("hex");
      }
    };
  });
  return loading;
}
async function sha256HexOffThread(data) {
  const digest = await crypto.subtle.digest("SHA-256", data);
  return new Uint8Array(digest).toHex();
}
async function sha256HexOfText(text2) {
  return await sha256HexOffThread(new TextEncoder().encode(text2));
}
var loading, loaded;
var init_sha256 = __esm({
  "src/util/sha256.ts"() {
  }
});

// src/local/native_entry.ts
function encodeNativeEntry(entry) {
  return `v1 ${entry.actionId} ${entry.outputId} ${String(entry.size).padStart(20)} ${String(entry.timeNanos).padStart(20)}
`;
}
function parseNativeEntry(text2) {
  if (text2.length !== NATIVE_ENTRY_BYTES || !text2.startsWith("v1 ") || text2[67] !== " " || text2[132] !== " " || text2[153] !== " " || text2[174] !== "\n") {
    return void 0;
  }
  const actionId = text2.slice(3, 67);
  const outputId = text2.slice(68, 132);
  const size = text2.slice(133, 153).trimStart();
  const time = text2.slice(154, 174).trimStart();
  if (!isHexId(actionId) || !isHexId(outputId) || !DIGITS.test(size) || !DIGITS.test(time)) {
    return void 0;
  }
  return {
    actionId,
    outputId,
    size: Number(size),
    timeNanos: BigInt(time)
  };
}
var NATIVE_ENTRY_BYTES, DIGITS;
var init_native_entry = __esm({
  "src/local/native_entry.ts"() {
    init_ids();
    NATIVE_ENTRY_BYTES = 175;
    DIGITS = /^\d+$/;
  }
});

// src/local/atomic_file.ts
function createFileSync(path, data) {
  try {
    inParentSync(path, () => Deno.writeFileSync(path, data, NEW_FILE));
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    removeQuietlySync(path);
    throw error;
  }
}
async function createFile(path, data) {
  try {
    await inParent(path, () => writeNewFile(path, data));
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    await Deno.remove(path).catch(() => {
    });
    throw error;
  }
}
function createOrReplaceFileSync(path, data) {
  if (!createFileSync(path, data)) writeFileAtomicSync(path, data);
}
async function createOrReplaceFile(path, data) {
  if (!await createFile(path, data)) await writeFileAtomic(path, data);
}
function writeFileAtomicSync(finalPath, data) {
  const tempPath = temporaryPath(finalPath);
  try {
    inParentSync(tempPath, () => Deno.writeFileSync(tempPath, data, NEW_FILE));
    Deno.renameSync(tempPath, finalPath);
  } catch (error) {
    removeQuietlySync(tempPath);
    throw error;
  }
}
async function writeFileAtomic(finalPath, data) {
  const tempPath = temporaryPath(finalPath);
  try {
    await inParent(tempPath, () => writeNewFile(tempPath, data));
    await Deno.rename(tempPath, finalPath);
  } catch (error) {
    await Deno.remove(tempPath).catch(() => {
    });
    throw error;
  }
}
function fileInfo(path) {
  try {
    const info = Deno.statSync(path);
    return info.isFile ? info : void 0;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return void 0;
    throw error;
  }
}
async function fileInfoAsync(path) {
  try {
    const info = await Deno.stat(path);
    return info.isFile ? info : void 0;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return void 0;
    throw error;
  }
}
async function writeNewFile(path, data) {
  if (data.length < LENT_WRITE_BYTES) return await Deno.writeFile(path, data, NEW_FILE);
  const file = await Deno.open(path, NEW_FILE_OPEN);
  try {
    await writeAll(file, data);
  } finally {
    file.close();
  }
}
async function writeAll(file, data) {
  let written = 0;
  while (written < data.length) written += await file.write(data.subarray(written));
}
function parentOf(path) {
  return path.slice(0, path.lastIndexOf("/"));
}
function inParentSync(path, make) {
  try {
    return make();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    Deno.mkdirSync(parentOf(path), {
      recursive: true
    });
    return make();
  }
}
async function inParent(path, make) {
  try {
    return await make();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    await Deno.mkdir(parentOf(path), {
      recursive: true
    });
    return await make();
  }
}
function removeQuietlySync(path) {
  try {
    Deno.removeSync(path);
  } catch {
  }
}
var NEW_FILE, NEW_FILE_OPEN, LENT_WRITE_BYTES, StreamedFile;
var init_atomic_file = __esm({
  "src/local/atomic_file.ts"() {
    init_store_files();
    NEW_FILE = {
      createNew: true
    };
    NEW_FILE_OPEN = {
      write: true,
      ...NEW_FILE
    };
    LENT_WRITE_BYTES = 1 << 20;
    StreamedFile = class _StreamedFile {
      #finalPath;
      #tempPath;
      #file;
      constructor(finalPath, tempPath, file) {
        this.#finalPath = finalPath;
        this.#tempPath = tempPath;
        this.#file = file;
      }
      /**
       * Creates the temporary file, and its directory if it is missing.
       *
       * @param finalPath Where the file goes once committed.
       * @returns The open file.
       */
      static async create(finalPath) {
        const tempPath = temporaryPath(finalPath);
        const file = await inParent(tempPath, () => Deno.open(tempPath, NEW_FILE_OPEN));
        return new _StreamedFile(finalPath, tempPath, file);
      }
      /**
       * Appends bytes.
       *
       * @param data The bytes.
       */
      async write(data) {
        await writeAll(this.#file, data);
      }
      /** Closes the file and renames it into place; on failure, removes it. */
      async commit() {
        this.#file.close();
        try {
          await Deno.rename(this.#tempPath, this.#finalPath);
        } catch (error) {
          await Deno.remove(this.#tempPath).catch(() => {
          });
          throw error;
        }
      }
      /** Closes and removes the file. */
      async abort() {
        try {
          this.#file.close();
        } catch {
        }
        await Deno.remove(this.#tempPath).catch(() => {
        });
      }
    };
  }
});

// src/local/entry_files.ts
function writeEntrySync(entry) {
  for (const [path, bytes] of entry.writes) createOrReplaceFileSync(path, bytes);
}
async function writeEntry(entry) {
  for (const [path, bytes] of entry.writes) await createOrReplaceFile(path, bytes);
}
function readSmallFile(path, buffer) {
  let file;
  try {
    file = Deno.openSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return void 0;
    throw error;
  }
  try {
    const count = file.readSync(buffer) ?? 0;
    const mtime = file.statSync().mtime?.getTime() ?? Date.now();
    return {
      text: textDecoder.decode(buffer.subarray(0, count)),
      mtime
    };
  } finally {
    file.close();
  }
}
function touch(path, now) {
  try {
    const date = new Date(now);
    Deno.utimeSync(path, date, date);
  } catch {
  }
}
function nowNanos() {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e3)) * 1000n;
}
var USE_TIME_INTERVAL_MILLIS, textDecoder, textEncoder, EntryFiles;
var init_entry_files = __esm({
  "src/local/entry_files.ts"() {
    init_native_entry();
    init_store_files();
    init_atomic_file();
    USE_TIME_INTERVAL_MILLIS = 36e5;
    textDecoder = new TextDecoder();
    textEncoder = new TextEncoder();
    EntryFiles = class {
      /** The store's directory. */
      dir;
      #keepComputeTimes;
      /** One byte longer than an entry, to tell a too-long file from a valid one. */
      #buffer = new Uint8Array(NATIVE_ENTRY_BYTES + 1);
      /**
       * Creates the reader and writer of a directory's entry files.
       *
       * @param dir The store's absolute directory.
       * @param keepComputeTimes Whether `-s` files are written and read.
       */
      constructor(dir, keepComputeTimes) {
        this.dir = dir;
        this.#keepComputeTimes = keepComputeTimes;
      }
      /**
       * The path of an action entry file.
       *
       * @param actionId The ActionID in hex.
       * @returns `<dir>/<xx>/<actionId>-a`.
       */
      entryPath(actionId) {
        return storeFilePath(this.dir, actionId, "a");
      }
      /**
       * The path of the file that records how long an entry took to produce.
       *
       * @param actionId The ActionID in hex.
       * @returns `<dir>/<xx>/<actionId>-s`.
       */
      computeTimePath(actionId) {
        return storeFilePath(this.dir, actionId, "s");
      }
      /**
       * The path of an output file, which is what the go command is given as DiskPath.
       *
       * @param outputId The OutputID in hex.
       * @returns `<dir>/<xx>/<outputId>-d`.
       */
      outputPath(outputId) {
        return storeFilePath(this.dir, outputId, "d");
      }
      /**
       * Whether an action entry file exists: one `stat`, without reading it.
       *
       * @param actionId The ActionID in hex.
       * @returns `true` when there is one.
       */
      exists(actionId) {
        return fileInfo(this.entryPath(actionId)) !== void 0;
      }
      /**
       * Reads an entry back: a valid entry file for this ActionID, and an output file of
       * exactly the recorded size; anything else is `undefined`. Refreshes use times at most
       * once an hour, as the go command does.
       *
       * @param actionId The ActionID in hex.
       * @returns The hit, or `undefined`.
       */
      read(actionId) {
        const read = readSmallFile(this.entryPath(actionId), this.#buffer);
        if (read === void 0) return void 0;
        const entry = parseNativeEntry(read.text);
        if (entry === void 0 || entry.actionId !== actionId) return void 0;
        const diskPath = this.outputPath(entry.outputId);
        const output = fileInfo(diskPath);
        if (output === void 0 || output.size !== entry.size) return void 0;
        const now = Date.now();
        if (now - read.mtime >= USE_TIME_INTERVAL_MILLIS) touch(this.entryPath(actionId), now);
        if (now - (output.mtime?.getTime() ?? now) >= USE_TIME_INTERVAL_MILLIS) touch(diskPath, now);
        const hit = {
          outputId: entry.outputId,
          size: entry.size,
          timeNanos: entry.timeNanos,
          diskPath
        };
        if (this.#keepComputeTimes) {
          const recorded = readSmallFile(this.computeTimePath(actionId), this.#buffer);
          const millis = recorded === void 0 ? NaN : Number(recorded.text);
          if (Number.isFinite(millis) && millis > 0) hit.computeMillis = millis;
        }
        return hit;
      }
      /**
       * The files that record an entry whose output is in place, and the hit they give.
       *
       * @param request The entry; its put time is now unless given.
       * @returns The writes, in order.
       */
      writesFor(request) {
        const timeNanos = request.timeNanos ?? nowNanos();
        const writes = [];
        if (this.#keepComputeTimes && request.computeMillis !== void 0) {
          const millis = String(Math.max(1, Math.round(request.computeMillis)));
          writes.push([
            this.computeTimePath(request.actionId),
            textEncoder.encode(millis)
          ]);
        }
        const entry = encodeNativeEntry({
          actionId: request.actionId,
          outputId: request.outputId,
          size: request.size,
          timeNanos
        });
        writes.push([
          this.entryPath(request.actionId),
          textEncoder.encode(entry)
        ]);
        const hit = {
          outputId: request.outputId,
          size: request.size,
          timeNanos,
          diskPath: this.outputPath(request.outputId)
        };
        return {
          writes,
          hit
        };
      }
    };
  }
});

// src/local/deferred_entries.ts
var MAX_DEFERRED_ENTRIES, DeferredEntries;
var init_deferred_entries = __esm({
  "src/local/deferred_entries.ts"() {
    init_entry_files();
    MAX_DEFERRED_ENTRIES = 64;
    DeferredEntries = class {
      #entries = /* @__PURE__ */ new Map();
      /**
       * The hit of an entry waiting to be written.
       *
       * @param actionId The ActionID in hex.
       * @returns A copy of its hit, or `undefined` when none waits.
       */
      get(actionId) {
        const entry = this.#entries.get(actionId);
        return entry === void 0 ? void 0 : {
          ...entry.hit
        };
      }
      /**
       * Whether an entry waits to be written.
       *
       * @param actionId The ActionID in hex.
       * @returns `true` when one does.
       */
      has(actionId) {
        return this.#entries.has(actionId);
      }
      /**
       * Puts an entry's writes off; writes them all when too many wait.
       *
       * @param actionId The ActionID in hex.
       * @param entry Its files.
       */
      add(actionId, entry) {
        this.#entries.set(actionId, entry);
        if (this.#entries.size > MAX_DEFERRED_ENTRIES) this.flush();
      }
      /**
       * Forgets an entry without writing it: a put of the same action wrote a newer one.
       *
       * @param actionId The ActionID in hex.
       */
      drop(actionId) {
        this.#entries.delete(actionId);
      }
      /** Writes every waiting entry, synchronously. */
      flush() {
        for (const [actionId, entry] of this.#entries) {
          this.#entries.delete(actionId);
          try {
            writeEntrySync(entry);
          } catch {
          }
        }
      }
    };
  }
});

// src/local/output_files.ts
function writeOutputSync(path, output, body) {
  if (createFileSync(path, body)) return;
  if (!holdsOutput(path, output)) writeFileAtomicSync(path, body);
}
async function writeOutput(path, output, body) {
  if (await createFile(path, body)) return;
  if (!await holdsOutputInBackground(path, output)) await writeFileAtomic(path, body);
}
function holdsOutput(path, output) {
  if (fileInfo(path)?.size !== output.size) return false;
  const sha256 = loadedSha256();
  if (sha256 === void 0) return false;
  const hash = sha256();
  try {
    hash.update(Deno.readFileSync(path));
  } catch {
    return false;
  }
  return hash.digestHex() === output.outputId;
}
async function holdsOutputInBackground(path, output) {
  if ((await fileInfoAsync(path))?.size !== output.size) return false;
  try {
    return await sha256HexOffThread(await Deno.readFile(path)) === output.outputId;
  } catch {
    return false;
  }
}
async function checkBody(output, body, offThread) {
  if (body.length !== output.size) {
    throw new CorruptEntryError(`its body is ${body.length} bytes, not ${output.size}`);
  }
  let digest;
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
var init_output_files = __esm({
  "src/local/output_files.ts"() {
    init_errors();
    init_atomic_file();
    init_sha256();
  }
});

// src/local/output_writer.ts
var IN_MEMORY_BODY_LIMIT, OutputWriter;
var init_output_writer = __esm({
  "src/local/output_writer.ts"() {
    init_bytes();
    init_atomic_file();
    init_output_files();
    IN_MEMORY_BODY_LIMIT = 1 << 20;
    OutputWriter = class {
      #path;
      #output;
      /** Whether the output file already holds this output, once a streamed body asks. */
      #alreadyStored = false;
      #buffered = [];
      #bufferedBytes = 0;
      #file;
      /**
       * Prepares to write an output.
       *
       * @param path The output file.
       * @param output Its OutputID and size.
       */
      constructor(path, output) {
        this.#path = path;
        this.#output = output;
      }
      /**
       * Takes the next piece of the body.
       *
       * @param chunk The bytes, which the writer may keep.
       */
      async write(chunk) {
        if (this.#alreadyStored) return;
        if (this.#file === void 0) {
          if (this.#bufferedBytes + chunk.length <= IN_MEMORY_BODY_LIMIT) {
            this.#buffered.push(chunk);
            this.#bufferedBytes += chunk.length;
            return;
          }
          if (holdsOutput(this.#path, this.#output)) {
            this.#alreadyStored = true;
            this.#buffered = [];
            return;
          }
          this.#file = await StreamedFile.create(this.#path);
          for (const part of this.#buffered) await this.#file.write(part);
          this.#buffered = [];
        }
        await this.#file.write(chunk);
      }
      /**
       * Puts the output in place: at once for a small body, or an output already stored.
       *
       * @returns Nothing, or a promise that settles once it is in place.
       */
      commit() {
        const file = this.#file;
        if (file === void 0) {
          if (!this.#alreadyStored) {
            writeOutputSync(this.#path, this.#output, concatBytes(this.#buffered, this.#bufferedBytes));
          }
          this.#buffered = [];
          return;
        }
        this.#file = void 0;
        return file.commit();
      }
      /** Discards whatever was written. */
      async abort() {
        this.#buffered = [];
        await this.#file?.abort();
        this.#file = void 0;
      }
    };
  }
});

// src/local/file_body.ts
async function openFileBody(path, size) {
  let file;
  try {
    file = await Deno.open(path);
  } catch {
    return void 0;
  }
  if ((await file.stat()).size !== size) {
    file.close();
    return void 0;
  }
  let queue = Promise.resolve();
  return {
    size,
    read(offset, length) {
      const read = queue.then(async () => {
        const piece = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
        await file.seek(offset, Deno.SeekMode.Start);
        let have = 0;
        while (have < piece.length) {
          const count = await file.read(piece.subarray(have));
          if (count === null) throw new Error(`${path} ended before its recorded size`);
          have += count;
        }
        return piece;
      });
      queue = read.catch(() => {
      });
      return read;
    },
    [Symbol.dispose]() {
      file.close();
    }
  };
}
var init_file_body = __esm({
  "src/local/file_body.ts"() {
  }
});

// src/local/disk_store.ts
var DiskStore;
var init_disk_store = __esm({
  "src/local/disk_store.ts"() {
    init_entry_files();
    init_deferred_entries();
    init_output_files();
    init_output_writer();
    init_file_body();
    DiskStore = class _DiskStore {
      /** The absolute directory of the store. */
      dir;
      /** Entries deferred to answer remote hits sooner, written when the engine is idle. */
      background;
      #files;
      #deferred = new DeferredEntries();
      #backgroundOnEventLoop;
      /**
       * Creates a store over an existing directory; see {@linkcode DiskStore.open}.
       *
       * @param dir An absolute directory path.
       * @param options What else to keep track of, and how to do background work.
       */
      constructor(dir, options = {}) {
        this.dir = dir;
        this.#files = new EntryFiles(dir, options.keepComputeTimes ?? false);
        this.#backgroundOnEventLoop = options.backgroundOnEventLoop ?? false;
        this.background = {
          busy: () => false,
          runDeferred: () => this.#deferred.flush()
        };
      }
      /**
       * Opens a store, creating its directory if needed.
       *
       * @param dir An absolute directory path.
       * @param options What else to keep track of.
       * @returns The store.
       * @throws {TypeError} If the path is not absolute; also what creating it throws.
       */
      static async open(dir, options = {}) {
        if (!dir.startsWith("/")) throw new TypeError(`Cache directory must be absolute: "${dir}"`);
        await Deno.mkdir(dir, {
          recursive: true
        });
        return new _DiskStore(dir, options);
      }
      /**
       * The path of an action entry file.
       *
       * @param actionId The ActionID in hex.
       * @returns `<dir>/<xx>/<actionId>-a`.
       */
      entryPath(actionId) {
        return this.#files.entryPath(actionId);
      }
      /**
       * The path of an output file, which is what the go command is given as DiskPath.
       *
       * @param outputId The OutputID in hex.
       * @returns `<dir>/<xx>/<outputId>-d`.
       */
      outputPath(outputId) {
        return this.#files.outputPath(outputId);
      }
      /**
       * Looks up an entry. A hit needs a valid entry file for this ActionID and an output
       * file of exactly the recorded size; anything else (say, after `go clean -cache`) is
       * a miss. The reads are synchronous on purpose: they touch a 175-byte file and one
       * inode, and the asynchronous calls cost several times more than the work itself.
       *
       * @param actionId The ActionID in hex.
       * @returns The hit, or `undefined` on a miss.
       */
      get(actionId) {
        return this.#deferred.get(actionId) ?? this.#files.read(actionId);
      }
      /**
       * Tells whether an entry is stored, cheaply and without counting as a use: a prefetch
       * checks every entry of a manifest before the go command's gets, and must not keep
       * entries from being trimmed. It looks for the action entry file only, one `stat`. An
       * entry whose output has gone missing is then not prefetched; the go command's get
       * still checks everything, misses, and fetches it on demand.
       *
       * @param actionId The ActionID in hex.
       * @returns Whether the action's entry file exists.
       */
      has(actionId) {
        return this.#deferred.has(actionId) || this.#files.exists(actionId);
      }
      /**
       * Starts storing an entry. The output is written first and the action entry last, so
       * an entry never names an output that is not there yet. An output file that already
       * holds this output (its size and SHA-256 checked) is left alone: another go process
       * may be reading it. One that does not is replaced, by a rename, which readers of the
       * old file never notice.
       *
       * @param request The entry's IDs and size.
       * @returns The writer for its body.
       */
      startPut(request) {
        const output = new OutputWriter(this.outputPath(request.outputId), request);
        return {
          write: (chunk) => output.write(chunk),
          abort: () => output.abort(),
          commit: () => {
            const placed = output.commit();
            if (placed instanceof Promise) return placed.then(() => this.#recordPut(request));
            return this.#recordPut(request);
          }
        };
      }
      /**
       * Stores a whole entry fetched from elsewhere, once its body is checked. For a get that
       * waits, the body is hashed and written with synchronous calls and the hit returned as
       * soon as the output is in place: the entry's files are written by
       * {@linkcode BackgroundWork.runDeferred} (which the engine calls once every request is
       * answered and written), or at the latest by {@linkcode DiskStore.close}, and until
       * then this store answers for the action from memory. An entry that fails to be
       * written only costs a later process a fetch: the output the go command was given is
       * in place. Large bodies, and background work, are hashed and written on Deno's
       * thread pool, so that the go command's requests are not held behind them (unless
       * the store was opened with `backgroundOnEventLoop`).
       *
       * @param request The entry's IDs, size and put time.
       * @param body The body.
       * @param urgency Who waits on it.
       * @returns The hit the entry now gives.
       * @throws {CorruptEntryError} If the body is not the entry's.
       */
      async storeFetched(request, body, urgency) {
        const onEventLoop = urgency === "demand" || this.#backgroundOnEventLoop;
        await checkBody(request, body, !onEventLoop);
        const entry = this.#files.writesFor(request);
        if (!onEventLoop || body.length > IN_MEMORY_BODY_LIMIT) {
          await writeOutput(entry.hit.diskPath, request, body);
          await writeEntry(entry);
          return entry.hit;
        }
        writeOutputSync(entry.hit.diskPath, request, body);
        this.#deferred.add(request.actionId, entry);
        return {
          ...entry.hit
        };
      }
      /**
       * Opens a stored output to read it a piece at a time, for an upload.
       *
       * @param outputId The OutputID in hex.
       * @param size Its size, as its entry records it.
       * @returns The body, or `undefined` when the output is gone or not of that size.
       */
      openOutput(outputId, size) {
        return openFileBody(this.outputPath(outputId), size);
      }
      /** Writes the entries of remote hits still deferred. */
      close() {
        this.#deferred.flush();
        return Promise.resolve();
      }
      /** Records a put's entry, its output being in place. */
      #recordPut(request) {
        this.#deferred.drop(request.actionId);
        const entry = this.#files.writesFor(request);
        writeEntrySync(entry);
        return entry.hit;
      }
    };
  }
});

// src/metrics.ts
var metrics_exports = {};
__export(metrics_exports, {
  MetricsRegistry: () => MetricsRegistry
});
var MetricsRegistry;
var init_metrics = __esm({
  "src/metrics.ts"() {
    MetricsRegistry = class {
      #parts = /* @__PURE__ */ new Map();
      #owners = /* @__PURE__ */ new Map();
      /**
       * Registers a part's counters.
       *
       * @param part The part's name, such as `uploads`.
       * @param source Reads the part's counters.
       * @throws {TypeError} If the part's name is taken, or one of its counters' names is
       * another part's.
       */
      register(part, source) {
        if (this.#parts.has(part)) throw new TypeError(`The part "${part}" is registered already`);
        const names = Object.keys(source.counters());
        for (const name of names) {
          const owner = this.#owners.get(name);
          if (owner !== void 0) {
            throw new TypeError(`The counter "${name}" of "${part}" is already "${owner}"'s`);
          }
        }
        for (const name of names) this.#owners.set(name, part);
        this.#parts.set(part, source);
      }
      /**
       * Whether a part is registered.
       *
       * @param part The part's name.
       * @returns `true` when it is.
       */
      has(part) {
        return this.#parts.has(part);
      }
      /**
       * Every part's counters, in one object: each name is one part's.
       *
       * @returns The counters by name.
       */
      record() {
        const record = {};
        for (const source of this.#parts.values()) Object.assign(record, source.counters());
        return record;
      }
    };
  }
});

// src/util/clock.ts
function sleep(clock, millis, until) {
  return new Promise((resolve) => {
    const cancel = clock.after(millis, resolve);
    until?.then(() => (cancel(), resolve()), () => (cancel(), resolve()));
  });
}
function withDeadline(promise, millis, operation, clock = SYSTEM_CLOCK) {
  return new Promise((resolve, reject) => {
    const cancel = clock.after(millis, () => reject(new DeadlineError(operation, millis)));
    promise.then(resolve, reject).finally(cancel);
  });
}
var SYSTEM_CLOCK;
var init_clock = __esm({
  "src/util/clock.ts"() {
    init_errors();
    SYSTEM_CLOCK = {
      now: () => performance.now(),
      after(millis, callback) {
        const signal = AbortSignal.timeout(Math.max(0, millis));
        signal.addEventListener("abort", callback, {
          once: true
        });
        return () => signal.removeEventListener("abort", callback);
      }
    };
  }
});

// src/tiered/circuit_breaker.ts
var CircuitBreaker;
var init_circuit_breaker = __esm({
  "src/tiered/circuit_breaker.ts"() {
    init_clock();
    init_defaults2();
    CircuitBreaker = class {
      #failureThreshold;
      #cooldownMillis;
      #clock;
      #onOpen;
      #onClose;
      #consecutiveFailures = 0;
      #openedAt = 0;
      #state = "closed";
      /**
       * Creates a closed breaker.
       *
       * @param options Thresholds, the clock and the callbacks.
       */
      constructor(options = {}) {
        this.#failureThreshold = options.failureThreshold ?? DEFAULT_BREAKER_FAILURE_THRESHOLD;
        this.#cooldownMillis = options.cooldownMillis ?? DEFAULT_BREAKER_COOLDOWN_MILLIS;
        this.#clock = options.clock ?? SYSTEM_CLOCK;
        this.#onOpen = options.onOpen ?? (() => {
        });
        this.#onClose = options.onClose ?? (() => {
        });
      }
      /** The current state. */
      get state() {
        return this.#state;
      }
      /**
       * Whether requests may go to the remote now.
       *
       * @returns `true` while the breaker is closed.
       */
      allows() {
        return this.#state === "closed";
      }
      /**
       * Whether it is time to probe the remote: the breaker is open and has cooled down.
       *
       * @returns `true` when a probe should be sent.
       */
      shouldProbe() {
        return this.#state === "open" && this.cooldownLeft() === 0;
      }
      /**
       * How long until a probe is due.
       *
       * @returns Milliseconds until {@linkcode CircuitBreaker.shouldProbe} says yes; 0 when it
       * does now, or when the breaker is closed.
       */
      cooldownLeft() {
        if (this.#state === "closed") return 0;
        return Math.max(0, this.#openedAt + this.#cooldownMillis - this.#clock.now());
      }
      /** Records a success: closes the breaker and clears the failure count. */
      recordSuccess() {
        this.#consecutiveFailures = 0;
        if (this.#state === "closed") return;
        this.#state = "closed";
        this.#onClose();
      }
      /**
       * Records a failure.
       *
       * @param reason What went wrong, for the open callback.
       * @param immediate Open at once (a timeout: the remote is slow or frozen, and waiting
       * on it again would cost the build the same again).
       */
      recordFailure(reason, immediate = false) {
        this.#consecutiveFailures++;
        if (this.#state === "open") {
          this.#openedAt = this.#clock.now();
          return;
        }
        if (immediate || this.#consecutiveFailures >= this.#failureThreshold) {
          this.#state = "open";
          this.#openedAt = this.#clock.now();
          this.#onOpen(reason);
        }
      }
    };
  }
});

// src/tiered/remote_link.ts
var BUILDING_LOCALLY, RemoteLink;
var init_remote_link = __esm({
  "src/tiered/remote_link.ts"() {
    init_store();
    init_circuit_breaker();
    init_defaults2();
    init_clock();
    init_errors();
    BUILDING_LOCALLY = "building from the local cache alone and retrying in the background";
    RemoteLink = class {
      /** Settles once connecting has succeeded or failed: the store, if its code loaded. */
      connected;
      #breaker;
      #logger;
      #clock;
      #timeoutMillis;
      #remote;
      #connecting = true;
      /** When connecting started: gets wait for it at most one deadline from then. */
      #startedAt;
      /**
       * Settles when connecting settles, or one get deadline after it started, whichever is
       * first. Made by the first get that finds the link still connecting, so that a link
       * that connects before the go command's first get never sets a timer.
       */
      #demandWait;
      #probing;
      #downWaiters = [];
      #upWaiters = [];
      #closeWaiters = [];
      #closed = false;
      #breakerTrips = 0;
      #health;
      /** Another process found the remote down, and this one has not connected since. */
      #knownDown;
      /**
       * Starts connecting.
       *
       * @param options The remote store, the clock and the limits.
       */
      constructor(options) {
        this.#clock = options.clock ?? SYSTEM_CLOCK;
        this.#startedAt = this.#clock.now();
        this.#timeoutMillis = options.timeoutMillis ?? DEFAULT_REMOTE_TIMEOUT_MILLIS;
        this.#logger = options.logger;
        this.#health = options.health;
        const unavailableMeans = options.unavailableMeans ?? BUILDING_LOCALLY;
        this.#knownDown = options.health?.knownDown() ?? false;
        this.#breaker = new CircuitBreaker({
          cooldownMillis: options.breakerCooldownMillis ?? DEFAULT_BREAKER_COOLDOWN_MILLIS,
          clock: this.#clock,
          onOpen: (reason) => {
            this.#breakerTrips++;
            this.#health?.markDown(reason);
            for (const resolve of this.#downWaiters.splice(0)) resolve();
            this.#logger.warnOnce("remote-down", `${this.#where()} is unavailable (${reason}); ${unavailableMeans}`);
          },
          onClose: () => {
            this.#health?.markUp();
            for (const resolve of this.#upWaiters.splice(0)) resolve();
          }
        });
        this.connected = this.#connect(options.remote).finally(() => this.#connecting = false);
      }
      /** The remote store, once its code has loaded (usable or not). */
      get remote() {
        return this.#remote;
      }
      /**
       * Where the link stands: still `connecting`, `up` (the remote may be asked), or
       * `down` (it could not be reached, or failed since, and its breaker is open).
       */
      get state() {
        if (this.#connecting) return this.#knownDown ? "down" : "connecting";
        return this.#breaker.allows() ? "up" : "down";
      }
      /** Whether the link has been closed: what fails from then on is our own doing. */
      get closed() {
        return this.#closed;
      }
      /**
       * Whether the remote may be asked now: its breaker is closed (it may still be
       * connecting, which requests wait for in their own way).
       *
       * @returns `true` while the breaker is closed.
       */
      allows() {
        return this.#breaker.allows();
      }
      /**
       * Whether the remote may be asked now, for a request that was going to ask it. When it
       * may not, a probe is started if one is due, so that the breaker closes again once the
       * remote answers.
       *
       * @returns `true` while the breaker is closed.
       */
      allowsOrProbe() {
        if (this.#connecting && this.#knownDown) return false;
        if (this.#breaker.allows()) return true;
        if (this.#breaker.shouldProbe()) void this.#probe();
        return false;
      }
      /**
       * Waits for connecting, at most one get deadline from the start, for a get the go
       * command waits on; not at all when another process found the remote down.
       *
       * @returns The remote if it may be asked now, else `undefined`.
       */
      async untilConnectedOrDeadline() {
        if (this.#connecting && this.#knownDown) return void 0;
        if (this.#connecting) {
          const left = this.#startedAt + this.#timeoutMillis - this.#clock.now();
          if (left > 0) await (this.#demandWait ??= sleep(this.#clock, left, this.connected));
        }
        return this.state === "up" ? this.#remote : void 0;
      }
      /**
       * Waits until the remote may be used, through connecting and, while the breaker is
       * open, through probes, or until the link is closed: for an upload.
       *
       * @returns The remote, or `undefined` once the link is closed or the remote's code
       * could not be loaded.
       */
      async untilUp() {
        const remote = await this.connected;
        if (remote === void 0) return void 0;
        while (!this.#closed) {
          if (this.#breaker.allows()) return remote;
          await Promise.race([
            this.#probe(),
            new Promise((resolve) => this.#upWaiters.push(resolve))
          ]);
        }
        return void 0;
      }
      /**
       * Settles when the link is down (at once if it is): nothing waiting on it will go on
       * before a probe finds the remote again.
       *
       * @returns A promise that settles when the link is down.
       */
      untilDown() {
        if (this.state === "down") return Promise.resolve();
        return new Promise((resolve) => this.#downWaiters.push(resolve));
      }
      /** Records a use of the remote that worked. */
      succeeded() {
        this.#breaker.recordSuccess();
      }
      /**
       * Records a use of the remote that failed. A missed deadline or refused credentials open
       * the breaker at once (asking again would cost the build the same again); other errors
       * open it after a few in a row. A full remote is not a failing one: reads go on, and
       * it is said once. Work cut off by our own close is no failure at all.
       *
       * @param error What the remote operation threw.
       */
      failed(error) {
        if (this.#closed || error instanceof ClosedError) return;
        if (error instanceof RemoteFullError) {
          this.#logger.warnOnce("remote-full", `${this.#where()} is full (${error.message}); new entries are not being uploaded`);
          return;
        }
        const immediate = error instanceof DeadlineError || error instanceof RemoteAuthError;
        this.#breaker.recordFailure(messageOf(error), immediate);
      }
      /**
       * Whether connecting or probing is in progress.
       *
       * @returns `true` while either is.
       */
      busy() {
        return this.#connecting || this.#probing !== void 0;
      }
      /**
       * The link's counters.
       *
       * @returns `breakerTrips`: how many times the breaker opened.
       */
      counters() {
        return {
          breakerTrips: this.#breakerTrips
        };
      }
      /** Stops waiting for the remote, and closes its connections. */
      async close() {
        this.#closed = true;
        const waiters = [
          this.#downWaiters,
          this.#upWaiters,
          this.#closeWaiters
        ];
        for (const resolve of waiters.flatMap((list) => list.splice(0))) resolve();
        await this.#remote?.close().catch(() => {
        });
      }
      #where() {
        return this.#remote?.description ?? "the remote cache";
      }
      async #connect(remote) {
        let store;
        try {
          store = await remote;
        } catch (error) {
          this.#breaker.recordFailure(messageOf(error), true);
          return void 0;
        }
        this.#remote = store;
        const ready = await store.ready().catch(() => false);
        if (!ready && !this.#closed) {
          this.#breaker.recordFailure(store.lastError?.message ?? "it cannot be reached", true);
        } else if (ready && this.#knownDown) {
          this.#knownDown = false;
          this.#health?.markUp();
        }
        return store;
      }
      /** Probes once the breaker has cooled down; settles after the probe, or on close. */
      #probe() {
        this.#probing ??= (async () => {
          const remote = this.#remote;
          const wait = this.#breaker.cooldownLeft();
          if (wait > 0) await sleep(this.#clock, wait, this.#closing());
          if (remote === void 0 || this.#closed || this.#breaker.allows()) return;
          await withDeadline(remote.ping(), this.#timeoutMillis, "probing", this.#clock).then(() => this.#breaker.recordSuccess(), (error) => {
            if (!this.#closed) this.#breaker.recordFailure(messageOf(error));
          });
        })().finally(() => this.#probing = void 0);
        return this.#probing;
      }
      /** Settles when the link is closed. */
      #closing() {
        return this.#closed ? Promise.resolve() : new Promise((resolve) => this.#closeWaiters.push(resolve));
      }
    };
  }
});

// src/tiered/fetcher.ts
var MAX_REMEMBERED_MISSES2, Fetcher;
var init_fetcher = __esm({
  "src/tiered/fetcher.ts"() {
    init_errors();
    MAX_REMEMBERED_MISSES2 = 1e5;
    Fetcher = class {
      #context;
      #flight;
      #fetches = /* @__PURE__ */ new Map();
      /** Actions the remote did not have, this session: their uploads need not ask again. */
      #missedRemotely = /* @__PURE__ */ new Set();
      #counts = {
        demandRoundTrips: 0,
        demandJoined: 0,
        demandSkipped: 0,
        demandFound: 0,
        demandMisses: 0,
        demandErrors: 0,
        demandCorrupt: 0,
        demandWaitMillis: 0,
        corrupt: 0,
        bytesDownloaded: 0
      };
      /**
       * Creates a fetcher.
       *
       * @param context The link, the local store and where to report.
       * @param flight Single flight across the fleet, for the gets the go command waits on;
       * none if absent.
       */
      constructor(context, flight) {
        this.#context = context;
        this.#flight = flight;
      }
      /**
       * The fetcher's counters. Of the go command's gets that missed locally (`demand`),
       * each ends in exactly one of `demandFound`, `demandMisses`, `demandErrors`,
       * `demandCorrupt` and `demandSkipped` (not asked); each that asked made a round trip
       * of its own (`demandRoundTrips`) or joined a fetch in flight (`demandJoined`).
       * `demandWaitMillis` is the time they waited. `corrupt` and `bytesDownloaded` count
       * every fetch, whatever its purpose.
       *
       * @returns The counters.
       */
      counters() {
        return {
          ...this.#counts
        };
      }
      /**
       * Whether a fetch is in flight.
       *
       * @returns `true` while one is.
       */
      busy() {
        return this.#fetches.size > 0;
      }
      /**
       * Whether an action is being fetched.
       *
       * @param actionId The ActionID in hex.
       * @returns `true` while its fetch is in flight.
       */
      isFetching(actionId) {
        return this.#fetches.has(actionId);
      }
      /**
       * Fetches for a get the go command waits on. While the remote may not be asked, it is
       * a miss at once. A fetch already in flight (a prefetch, say) is joined; if it could
       * not get an answer (the prefetch's own failure, such as a manifest's wrong size), the
       * get fetches for itself. A remote failure is a miss; a failure to store locally is
       * the get's error.
       *
       * @param actionId The ActionID in hex.
       * @returns The hit, or `undefined` on a miss, at once or as a promise.
       */
      demand(actionId) {
        const counts = this.#counts;
        if (!this.#context.link.allowsOrProbe()) {
          counts.demandSkipped++;
          return void 0;
        }
        const started = this.#context.clock.now();
        const own = () => this.#shared(actionId, "demand");
        const pending = this.#fetches.get(actionId);
        const result = pending === void 0 ? own() : pending.then((joined) => {
          if (joined.kind === "failed" || joined.kind === "unavailable") return own();
          counts.demandJoined++;
          return joined;
        }, own);
        return result.then((outcome) => {
          counts.demandWaitMillis += this.#context.clock.now() - started;
          switch (outcome.kind) {
            case "hit":
              counts.demandFound++;
              return outcome.hit;
            case "miss":
              counts.demandMisses++;
              if (this.#missedRemotely.size < MAX_REMEMBERED_MISSES2) {
                this.#missedRemotely.add(actionId);
              }
              return void 0;
            case "corrupt":
              counts.demandCorrupt++;
              return void 0;
            case "unavailable":
              counts.demandSkipped++;
              return void 0;
            case "failed":
              counts.demandErrors++;
              return void 0;
          }
        });
      }
      /**
       * Fetches an entry into the local store for a companion or a prefetch, or joins the
       * fetch in flight for it.
       *
       * @param actionId The ActionID in hex.
       * @param purpose `companion` or `prefetch`.
       * @param maxBytes The largest entry wanted (a prefetch's claim); a larger one is
       * refused unread.
       * @returns The hit, or `undefined` when the remote has no valid entry, or could not be
       * asked. A companion's remote failure is `undefined` too; a prefetch's rejects.
       */
      async fetch(actionId, purpose, maxBytes) {
        const outcome = await this.#shared(actionId, purpose, maxBytes);
        if (outcome.kind === "hit") return outcome.hit;
        if (outcome.kind === "failed" && purpose === "prefetch") throw outcome.error;
        return void 0;
      }
      /**
       * Tells whether the remote answered a miss for this action in this session, and
       * forgets it: an upload of it can then skip asking whether the remote holds it.
       *
       * @param actionId The ActionID in hex.
       * @returns `true` if the remote missed it.
       */
      takeRemoteMiss(actionId) {
        return this.#missedRemotely.delete(actionId);
      }
      /** The fetch in flight for an action, or a new one. */
      #shared(actionId, purpose, maxBytes) {
        const pending = this.#fetches.get(actionId);
        if (pending !== void 0) return pending;
        const fetch = this.#fetch(actionId, purpose, maxBytes).finally(() => this.#fetches.delete(actionId));
        this.#fetches.set(actionId, fetch);
        return fetch;
      }
      async #fetch(actionId, purpose, maxBytes) {
        const { link, local } = this.#context;
        const remote = await link.untilConnectedOrDeadline();
        if (remote === void 0) return {
          kind: "unavailable"
        };
        if (purpose === "demand") this.#counts.demandRoundTrips++;
        let entry;
        try {
          const flight = this.#flight;
          entry = purpose === "demand" && flight !== void 0 && flight.appliesTo(remote) ? await flight.get(remote, actionId) : await remote.get(actionId, purpose === "prefetch" ? {
            background: true,
            ...maxBytes === void 0 ? {} : {
              maxBytes
            }
          } : void 0);
          link.succeeded();
        } catch (error) {
          if (error instanceof CorruptEntryError) return this.#corrupt(remote, actionId, error);
          if (error instanceof ClosedError || link.closed) return {
            kind: "unavailable"
          };
          if (purpose !== "prefetch") link.failed(error);
          return {
            kind: "failed",
            error
          };
        }
        if (entry === void 0) return {
          kind: "miss"
        };
        const { body, release, ...description } = entry;
        let stored;
        try {
          stored = await local.storeFetched({
            actionId,
            ...description
          }, body, purpose === "prefetch" ? "background" : "demand");
        } catch (error) {
          if (error instanceof CorruptEntryError) return this.#corrupt(remote, actionId, error);
          throw error;
        } finally {
          release?.();
        }
        this.#counts.bytesDownloaded += entry.size;
        const hit = {
          ...stored,
          source: "remote"
        };
        if (entry.computeMillis !== void 0) hit.computeMillis = entry.computeMillis;
        return {
          kind: "hit",
          hit
        };
      }
      #corrupt(remote, actionId, error) {
        this.#counts.corrupt++;
        this.#context.logger.warnOnce("remote-corrupt", `${remote.description} returned a corrupt entry for action ${actionId} (${messageOf(error)}); it is treated as a miss and never served (further corrupt entries are counted in the metrics)`);
        if (!this.#context.readOnly) remote.delete(actionId).catch(() => {
        });
        return {
          kind: "corrupt"
        };
      }
    };
  }
});

// src/tiered/subkey.ts
function subkey(sha256, parent, desc) {
  const hash = sha256();
  hash.update(PREFIX);
  hash.update(Uint8Array.fromHex(parent));
  hash.update(new TextEncoder().encode(desc));
  return hash.digestHex();
}
var PREFIX;
var init_subkey = __esm({
  "src/tiered/subkey.ts"() {
    PREFIX = new TextEncoder().encode("subkey:");
  }
});

// src/tiered/companions.ts
var TRIAL, MIN_USE, Companions;
var init_companions = __esm({
  "src/tiered/companions.ts"() {
    init_sha256();
    init_subkey();
    TRIAL = 64;
    MIN_USE = 0.2;
    Companions = class {
      #enabled;
      #local;
      #fetcher;
      #link;
      /** Companions stored locally ahead of the go command's get for them. */
      #stored = /* @__PURE__ */ new Set();
      #fetched = 0;
      #used = 0;
      /**
       * Creates the companion fetcher.
       *
       * @param options Whether to fetch them, and the tier's parts.
       */
      constructor(options) {
        this.#enabled = options.enabled;
        this.#local = options.local;
        this.#fetcher = options.fetcher;
        this.#link = options.link;
      }
      /**
       * The counters: companions stored with their compile (`companionsFetched`), and of
       * those, the ones the go command then asked for (`companionsUsed`).
       *
       * @returns The counters.
       */
      counters() {
        return {
          companionsFetched: this.#fetched,
          companionsUsed: this.#used
        };
      }
      /**
       * Notes a get of the go command's, to count the companions it used.
       *
       * @param actionId The ActionID the go command asked for.
       */
      noteGet(actionId) {
        if (this.#stored.delete(actionId)) this.#used++;
      }
      /**
       * Fetches the companion of an action being fetched on demand, and keeps it if the
       * action itself was a hit.
       *
       * @param actionId The action being fetched.
       * @param fetch Its fetch.
       */
      follow(actionId, fetch) {
        if (!this.#enabled || this.#fetched >= TRIAL && this.#used < this.#fetched * MIN_USE) {
          return;
        }
        loadSha256().then((sha256) => {
          const companion = subkey(sha256, actionId, "stdout");
          if (this.#fetcher.isFetching(companion) || !this.#link.allows()) return;
          if (this.#local.has(companion)) return;
          const companionFetch = this.#fetcher.fetch(companion, "companion");
          Promise.all([
            fetch,
            companionFetch
          ]).then(([hit, companionHit]) => {
            if (hit !== void 0 && companionHit !== void 0) {
              this.#fetched++;
              this.#stored.add(companion);
            }
          }, () => {
          });
        }, () => {
        });
      }
    };
  }
});

// src/util/format.ts
function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = [
    "KiB",
    "MiB",
    "GiB",
    "TiB"
  ];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
function formatMillis(millis) {
  return millis < 1e3 ? `${Math.round(millis)} ms` : `${(millis / 1e3).toFixed(2)} s`;
}
var init_format = __esm({
  "src/util/format.ts"() {
  }
});

// src/tiered/upload_queue.ts
var UploadQueue;
var init_upload_queue = __esm({
  "src/tiered/upload_queue.ts"() {
    init_store();
    init_clock();
    init_format();
    init_defaults2();
    UploadQueue = class {
      #link;
      #local;
      #logger;
      #clock;
      #concurrency;
      #maxQueued;
      #onFinished;
      #queue = [];
      #running = 0;
      #runningBytes = 0;
      #idle;
      #closed = false;
      #counts = {
        uploads: 0,
        uploadsSkipped: 0,
        uploadsFailed: 0,
        uploadsDropped: 0,
        bytesUploaded: 0
      };
      /**
       * Creates an empty queue.
       *
       * @param options The link, the local store and the bounds.
       */
      constructor(options) {
        this.#link = options.link;
        this.#local = options.local;
        this.#logger = options.logger;
        this.#clock = options.clock;
        this.#concurrency = options.concurrency ?? DEFAULT_UPLOAD_CONCURRENCY;
        this.#maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED_UPLOADS;
        this.#onFinished = options.onFinished;
      }
      /**
       * The counters: entries uploaded (`uploads`, with `bytesUploaded`), skipped because
       * the remote held them (`uploadsSkipped`), failed (`uploadsFailed`), and not attempted
       * (`uploadsDropped`: queue full, too large, remote gone, still queued at close).
       *
       * @returns The counters.
       */
      counters() {
        return {
          ...this.#counts
        };
      }
      /**
       * Queues an upload, or drops it (counted) when the queue is full, the entry too large,
       * or the queue draining.
       *
       * @param upload The entry.
       */
      add(upload) {
        if (this.#closed) return;
        if (this.#queue.length >= this.#maxQueued || upload.size > MAX_REMOTE_ENTRY_BYTES) {
          this.#counts.uploadsDropped++;
          this.#onFinished?.(upload.actionId);
          return;
        }
        this.#queue.push(upload);
        this.#pump();
      }
      /**
       * Whether uploads are queued or running.
       *
       * @returns `true` while any is.
       */
      busy() {
        return this.#queue.length > 0 || this.#running > 0;
      }
      /**
       * Stops taking uploads and waits for those queued or running, at most `waitMillis`,
       * and not at all while the remote is down (they could not go on). What is left is
       * counted as dropped; when the remote was up or connecting, it is said in one line.
       *
       * @param waitMillis The longest wait.
       */
      async drain(waitMillis) {
        this.#closed = true;
        if (this.busy()) {
          const idle = new Promise((resolve) => this.#idle = resolve);
          await withDeadline(Promise.race([
            idle,
            this.#link.untilDown()
          ]), waitMillis, "waiting for uploads", this.#clock).catch(() => {
          });
        }
        const left = this.#queue.length + this.#running;
        if (left === 0) return;
        const bytes = this.#queue.reduce((sum, upload) => sum + upload.size, 0);
        this.#counts.uploadsDropped += this.#queue.length;
        this.#queue = [];
        if (this.#link.state === "down") return;
        this.#logger.info(`${left} uploads (${formatBytes(bytes)} queued) were not finished within the upload wait (${waitMillis} ms): those entries are in the local cache but not in ${this.#link.remote?.description ?? "the remote cache"}`);
      }
      /** Starts queued uploads, a few at a time and within a budget of bytes in memory. */
      #pump() {
        while (this.#queue.length > 0 && this.#running < this.#concurrency) {
          const next = this.#queue[0];
          if (this.#running > 0 && this.#runningBytes + next.size > UPLOAD_BYTES_IN_FLIGHT) break;
          this.#queue.shift();
          this.#running++;
          this.#runningBytes += next.size;
          this.#upload(next).finally(() => {
            this.#onFinished?.(next.actionId);
            this.#running--;
            this.#runningBytes -= next.size;
            if (this.busy()) this.#pump();
            else this.#idle?.();
          });
        }
      }
      async #upload(upload) {
        const counts = this.#counts;
        const remote = await this.#link.untilUp();
        if (remote === void 0) {
          counts.uploadsDropped++;
          return;
        }
        try {
          if (!upload.remoteMissed && await remote.has(upload.actionId, upload.outputId)) {
            counts.uploadsSkipped++;
            return;
          }
          using body = await this.#local.openOutput(upload.outputId, upload.size);
          if (body === void 0) {
            counts.uploadsDropped++;
            return;
          }
          await remote.put(upload.actionId, {
            outputId: upload.outputId,
            size: upload.size,
            timeNanos: upload.timeNanos,
            body,
            ...upload.computeMillis === void 0 ? {} : {
              computeMillis: upload.computeMillis
            }
          });
          counts.uploads++;
          counts.bytesUploaded += upload.size;
          this.#link.succeeded();
        } catch (error) {
          counts.uploadsFailed++;
          this.#link.failed(error);
        }
      }
    };
  }
});

// src/tiered/single_flight.ts
var FIRST_POLL_MILLIS, MAX_POLL_MILLIS, POLL_BACKOFF, RENEWALS_PER_LEASE, SingleFlight;
var init_single_flight = __esm({
  "src/tiered/single_flight.ts"() {
    init_clock();
    init_defaults2();
    FIRST_POLL_MILLIS = 10;
    MAX_POLL_MILLIS = 250;
    POLL_BACKOFF = 1.5;
    RENEWALS_PER_LEASE = 5;
    SingleFlight = class {
      #context;
      #waitMillis;
      #leaseMillis;
      #owner;
      /** The actions whose leases this process holds. */
      #held = /* @__PURE__ */ new Set();
      #waiting = 0;
      #renewing;
      /** Releases sent after uploads: close waits for them before the link closes. */
      #releasing = /* @__PURE__ */ new Set();
      #closed = false;
      /** Settles at close, ending the renewals' pause. */
      #closing = Promise.withResolvers();
      #counts = {
        fleetLeasesTaken: 0,
        fleetWaits: 0,
        fleetWaitHits: 0,
        fleetTakeovers: 0,
        fleetWaitsGivenUp: 0,
        fleetWaitMillis: 0,
        fleetPolls: 0,
        fleetLeasesReleased: 0,
        fleetLeasesReleasedAtClose: 0,
        fleetLeasesLost: 0
      };
      /**
       * Creates the part; it holds no lease until a get takes one.
       *
       * @param context The link, the clock, and whether this process may write.
       * @param options The wait budget, the lease's lifetime, and this process's identity.
       */
      constructor(context, options) {
        this.#context = context;
        this.#waitMillis = options.waitMillis;
        this.#leaseMillis = options.leaseMillis ?? DEFAULT_FLEET_LEASE_MILLIS;
        this.#owner = options.owner ?? crypto.randomUUID();
      }
      /** This process's identity in the fleet, which its leases hold. */
      get owner() {
        return this.#owner;
      }
      /**
       * The counters. Leases taken (`fleetLeasesTaken`), and how they ended: released after
       * their upload (`fleetLeasesReleased`), at close (`fleetLeasesReleasedAtClose`), or
       * found expired at a renewal (`fleetLeasesLost`). Gets that found another process's
       * lease (`fleetWaits`) each end in exactly one of `fleetWaitHits` (its entry appeared),
       * `fleetTakeovers` (its lease ended without one: this process compiles) and
       * `fleetWaitsGivenUp` (the budget ran out, or the remote failed: a miss).
       * `fleetWaitMillis` is the time they waited, `fleetPolls` the round trips they added.
       *
       * @returns The counters.
       */
      counters() {
        return {
          ...this.#counts
        };
      }
      /**
       * Whether gets of this remote go through leases: waiting is allowed, and the remote
       * keeps leases.
       *
       * @param remote The remote.
       * @returns `true` when they do.
       */
      appliesTo(remote) {
        return this.#waitMillis > 0 && remote.getOrClaim !== void 0;
      }
      /**
       * Whether a get is waiting or a lease is held: the leases' renewals need the event loop.
       *
       * @returns `true` while either is.
       */
      busy() {
        return this.#waiting > 0 || this.#held.size > 0;
      }
      /**
       * Whether this process holds an action's lease.
       *
       * @param actionId The ActionID in hex.
       * @returns `true` if it does.
       */
      holds(actionId) {
        return this.#held.has(actionId);
      }
      /**
       * Fetches an entry for a get the go command waits on, through the action's lease: the
       * entry if the remote has it, or once another process that holds the lease has put it;
       * else `undefined` (a miss), holding the lease when this process may take it.
       *
       * @param remote The remote, which keeps leases (see {@linkcode SingleFlight.appliesTo}).
       * @param actionId The ActionID in hex.
       * @returns The entry, or `undefined` for a miss.
       * @throws What the remote throws (the caller tells the link).
       */
      async get(remote, actionId) {
        const { link, clock, readOnly } = this.#context;
        const claim = readOnly ? {
          owner: this.#owner
        } : {
          owner: this.#owner,
          leaseMillis: this.#leaseMillis
        };
        const first = await remote.getOrClaim(actionId, claim);
        if (first.entry !== void 0) return first.entry;
        if (first.holder === void 0) return void 0;
        if (first.holder === this.#owner) return this.#taken(actionId, false);
        const counts = this.#counts;
        counts.fleetWaits++;
        this.#waiting++;
        const started = clock.now();
        let pause = FIRST_POLL_MILLIS;
        try {
          for (; ; ) {
            const left = started + this.#waitMillis - clock.now();
            if (left <= 0 || this.#closed || !link.allows()) {
              counts.fleetWaitsGivenUp++;
              return void 0;
            }
            await sleep(clock, Math.min(pause, left));
            pause = Math.min(pause * POLL_BACKOFF, MAX_POLL_MILLIS);
            if (this.#closed || !link.allows()) continue;
            counts.fleetPolls++;
            let found;
            try {
              found = await remote.getOrClaim(actionId, claim);
            } catch (error) {
              counts.fleetWaitsGivenUp++;
              throw error;
            }
            if (found.entry !== void 0) {
              counts.fleetWaitHits++;
              return found.entry;
            }
            if (found.holder === this.#owner) return this.#taken(actionId, true);
            if (found.holder === void 0) {
              counts.fleetTakeovers++;
              return void 0;
            }
          }
        } finally {
          this.#waiting--;
          counts.fleetWaitMillis += clock.now() - started;
        }
      }
      /**
       * Ends the lease of an action whose upload has finished (or could not be made): whoever
       * waits on it finds the entry, or takes the lease and compiles.
       *
       * @param actionId The ActionID in hex.
       */
      finished(actionId) {
        if (!this.#held.delete(actionId)) return;
        const remote = this.#context.link.remote;
        if (remote?.releaseLeases === void 0) return;
        this.#counts.fleetLeasesReleased++;
        const release = remote.releaseLeases([
          actionId
        ], this.#owner).catch(() => {
        }).finally(() => this.#releasing.delete(release));
        this.#releasing.add(release);
      }
      /**
       * Stops renewing, and ends every lease still held, so that nobody waits on this
       * process's build once it has ended.
       */
      async close() {
        this.#closed = true;
        this.#closing.resolve();
        await this.#renewing;
        await Promise.all(this.#releasing);
        const actionIds = [
          ...this.#held
        ];
        this.#held.clear();
        const remote = this.#context.link.remote;
        if (actionIds.length === 0 || remote?.releaseLeases === void 0) return;
        if (!this.#context.link.allows()) return;
        try {
          await remote.releaseLeases(actionIds, this.#owner);
          this.#counts.fleetLeasesReleasedAtClose += actionIds.length;
        } catch {
        }
      }
      /** Records a lease taken, and keeps it renewed; the get is a miss. */
      #taken(actionId, afterWait) {
        if (afterWait) this.#counts.fleetTakeovers++;
        this.#counts.fleetLeasesTaken++;
        this.#held.add(actionId);
        this.#renewing ??= this.#renewWhileHeld().finally(() => this.#renewing = void 0);
        return void 0;
      }
      /** Renews every lease held, together, a few times per lifetime, while any is held. */
      async #renewWhileHeld() {
        const { link, clock } = this.#context;
        while (this.#held.size > 0 && !this.#closed) {
          await sleep(clock, this.#leaseMillis / RENEWALS_PER_LEASE, this.#closing.promise);
          const remote = link.remote;
          if (this.#closed || remote?.renewLeases === void 0 || !link.allows()) continue;
          const actionIds = [
            ...this.#held
          ];
          if (actionIds.length === 0) break;
          try {
            const kept = await remote.renewLeases(actionIds, this.#owner, this.#leaseMillis);
            link.succeeded();
            actionIds.forEach((actionId, index) => {
              if (!kept[index] && this.#held.delete(actionId)) this.#counts.fleetLeasesLost++;
            });
          } catch (error) {
            link.failed(error);
          }
        }
      }
    };
  }
});

// src/manifest_format.ts
function encodeManifestHeader(jobHash, createdMillis) {
  const header = new Uint8Array(MANIFEST_HEADER_BYTES);
  header.set(MAGIC, 0);
  header[4] = VERSION2;
  header.set(Uint8Array.fromHex(jobHash.slice(0, 32).padEnd(32, "0")), 8);
  new DataView(header.buffer).setBigUint64(24, BigInt(Math.max(0, Math.floor(createdMillis))), true);
  return header;
}
function encodeManifestRecords(records) {
  const bytes = new Uint8Array(records.length * MANIFEST_RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  records.forEach((record, i) => {
    const offset = i * MANIFEST_RECORD_BYTES;
    bytes.set(Uint8Array.fromHex(record.actionId), offset);
    view.setUint32(offset + 32, Math.min(record.size, MANIFEST_SIZE_LIMIT), true);
  });
  return bytes;
}
function decodeManifest(value) {
  if (value.length < MANIFEST_HEADER_BYTES) return void 0;
  if (MAGIC.some((byte, i) => value[i] !== byte) || value[4] !== VERSION2) return void 0;
  if ((value.length - MANIFEST_HEADER_BYTES) % MANIFEST_RECORD_BYTES !== 0) return void 0;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const count = Math.min((value.length - MANIFEST_HEADER_BYTES) / MANIFEST_RECORD_BYTES, MAX_MANIFEST_RECORDS);
  const records = [];
  for (let i = 0; i < count; i++) {
    const offset = MANIFEST_HEADER_BYTES + i * MANIFEST_RECORD_BYTES;
    records.push({
      actionId: value.subarray(offset, offset + 32).toHex(),
      size: view.getUint32(offset + 32, true)
    });
  }
  return {
    jobHash: value.subarray(8, 24).toHex(),
    createdMillis: Number(view.getBigUint64(24, true)),
    records
  };
}
var MANIFEST_HEADER_BYTES, MANIFEST_RECORD_BYTES, MANIFEST_SIZE_LIMIT, MAX_MANIFEST_RECORDS, MAX_MANIFEST_BYTES, MAGIC, VERSION2;
var init_manifest_format = __esm({
  "src/manifest_format.ts"() {
    MANIFEST_HEADER_BYTES = 32;
    MANIFEST_RECORD_BYTES = 36;
    MANIFEST_SIZE_LIMIT = 4294967295;
    MAX_MANIFEST_RECORDS = 2e5;
    MAX_MANIFEST_BYTES = MANIFEST_HEADER_BYTES + MAX_MANIFEST_RECORDS * MANIFEST_RECORD_BYTES;
    MAGIC = [
      71,
      67,
      80,
      77
    ];
    VERSION2 = 1;
  }
});

// src/tiered/manifest.ts
function deriveScopes(env, explicit = {}) {
  const gitlab = env("GITLAB_CI") === "true";
  const github = env("GITHUB_ACTIONS") === "true";
  let buildType = explicit.buildType;
  let own = explicit.own;
  let baseBranch = explicit.base;
  let defaultBranch = explicit.defaultBranch;
  let jobId;
  let branch;
  if (gitlab) {
    buildType ??= env("CI_JOB_NAME");
    const mr = env("CI_MERGE_REQUEST_IID");
    branch = env("CI_COMMIT_REF_NAME");
    own ??= mr ? `mr:${mr}` : branch ? `ref:${branch}` : void 0;
    baseBranch ??= env("CI_MERGE_REQUEST_TARGET_BRANCH_NAME");
    defaultBranch ??= env("CI_DEFAULT_BRANCH");
    jobId = env("CI_JOB_ID");
  } else if (github) {
    const workflow = env("GITHUB_WORKFLOW");
    const job = env("GITHUB_JOB");
    buildType ??= [
      workflow,
      job
    ].filter((part) => part).join("/") || void 0;
    const ref = env("GITHUB_REF") ?? "";
    const pr = /^refs\/pull\/(\d+)\//.exec(ref)?.[1];
    branch = env("GITHUB_REF_NAME");
    own ??= pr ? `pr:${pr}` : branch ? `ref:${branch}` : void 0;
    baseBranch ??= env("GITHUB_BASE_REF") || void 0;
    const run = [
      env("GITHUB_RUN_ID"),
      env("GITHUB_RUN_ATTEMPT"),
      job
    ].filter((part) => part);
    jobId = run.length > 0 ? run.join("-") : void 0;
  }
  defaultBranch ??= "main";
  const scopes = {
    buildType: buildType ?? "default",
    toolchain: toolchainOf(env),
    default: `ref:${defaultBranch}`,
    writesDefault: own === `ref:${defaultBranch}`
  };
  if (own !== void 0) scopes.own = own;
  if (baseBranch !== void 0 && baseBranch !== defaultBranch && `ref:${baseBranch}` !== own) {
    scopes.base = `ref:${baseBranch}`;
  }
  if (jobId !== void 0) scopes.jobId = jobId;
  return scopes;
}
function selectPrefetch(found, options) {
  const primary = [
    found.own,
    found.base
  ].filter((manifest) => manifest !== void 0);
  const primaryCount = new Set(primary.flatMap((manifest) => manifest.records.map((record) => record.actionId))).size;
  const sources = [
    ...primary
  ];
  if (found.default !== void 0 && (primary.length === 0 || primaryCount < found.default.records.length / 4)) {
    sources.push(found.default);
  }
  const seen = /* @__PURE__ */ new Set();
  const selected = [];
  let bytes = 0;
  for (const manifest of sources) {
    for (const record of manifest.records) {
      if (seen.has(record.actionId)) continue;
      seen.add(record.actionId);
      if (options.isLocal(record.actionId)) continue;
      if (bytes + record.size > options.maxBytes) continue;
      bytes += record.size;
      selected.push(record);
    }
  }
  return selected;
}
var MAX_MANIFEST_ENTRY_BYTES, ManifestRecorder;
var init_manifest = __esm({
  "src/tiered/manifest.ts"() {
    init_manifest_format();
    init_build_env();
    MAX_MANIFEST_ENTRY_BYTES = 64 << 20;
    ManifestRecorder = class {
      #seen = /* @__PURE__ */ new Set();
      #records = [];
      #maxEntryBytes;
      /**
       * Creates an empty recorder.
       *
       * @param maxEntryBytes Larger entries are not recorded.
       */
      constructor(maxEntryBytes = MAX_MANIFEST_ENTRY_BYTES) {
        this.#maxEntryBytes = maxEntryBytes;
      }
      /**
       * Notes a hit or a put.
       *
       * @param actionId The ActionID in hex.
       * @param size The entry's size.
       */
      note(actionId, size) {
        if (size > this.#maxEntryBytes || this.#seen.has(actionId)) return;
        if (this.#records.length >= MAX_MANIFEST_RECORDS) return;
        this.#seen.add(actionId);
        this.#records.push({
          actionId,
          size
        });
      }
      /** The records noted so far, in first-use order. */
      get records() {
        return this.#records;
      }
    };
  }
});

// src/tiered/prefetcher.ts
var DIVERGENCE_SAMPLE, DIVERGENCE_MIN_SHARE, Prefetcher;
var init_prefetcher = __esm({
  "src/tiered/prefetcher.ts"() {
    init_manifest_format();
    init_errors();
    init_defaults2();
    DIVERGENCE_SAMPLE = 64;
    DIVERGENCE_MIN_SHARE = 0.2;
    Prefetcher = class {
      /** The counters. */
      metrics = {
        planned: 0,
        fetched: 0,
        fetchedBytes: 0,
        used: 0,
        usedBytes: 0,
        missing: 0
      };
      #records;
      #fetch;
      #maxBytes;
      #skip;
      #window;
      #windowBytes;
      #onStop;
      #failsQuietly;
      #next = 0;
      #inFlight = 0;
      #inFlightBytes = 0;
      #stopped;
      #planned;
      #fetched = /* @__PURE__ */ new Map();
      #demandGets = 0;
      #demandInManifest = 0;
      #whenFinished = [];
      /**
       * Prepares a prefetch; {@linkcode Prefetcher.start} starts it.
       *
       * @param options What to fetch and how.
       */
      constructor(options) {
        this.#records = options.records;
        this.#fetch = options.fetch;
        this.#skip = options.skip;
        this.#window = options.window ?? DEFAULT_PREFETCH_WINDOW;
        this.#windowBytes = options.windowBytes ?? DEFAULT_PREFETCH_WINDOW_BYTES;
        this.#maxBytes = options.maxBytes ?? Infinity;
        this.#onStop = options.onStop ?? (() => {
        });
        this.#failsQuietly = options.failsQuietly ?? (() => false);
        this.#planned = new Set(options.records.map((record) => record.actionId));
        this.metrics.planned = options.records.length;
      }
      /** Starts fetching. */
      start() {
        this.#pump();
      }
      /**
       * Whether work is in flight or queued.
       *
       * @returns `true` while any is.
       */
      busy() {
        return this.#stopped === void 0 && (this.#inFlight > 0 || this.#next < this.#records.length);
      }
      /**
       * Waits until nothing is in flight and nothing more will start: every entry fetched
       * or skipped, or prefetching stopped.
       */
      finished() {
        if (this.#isFinished()) return Promise.resolve();
        return new Promise((resolve) => this.#whenFinished.push(resolve));
      }
      #isFinished() {
        return this.#inFlight === 0 && (this.#stopped !== void 0 || this.#next >= this.#records.length);
      }
      #settleIfFinished() {
        if (this.#isFinished()) {
          for (const resolve of this.#whenFinished.splice(0)) resolve();
        }
      }
      /**
       * Tells the prefetcher of a demand get, to count what it saved and to notice
       * divergence.
       *
       * @param actionId The ActionID the go command asked for.
       */
      noteDemand(actionId) {
        const size = this.#fetched.get(actionId);
        if (size !== void 0) {
          this.#fetched.delete(actionId);
          this.metrics.used++;
          this.metrics.usedBytes += size;
        }
        if (this.#stopped !== void 0 || this.#demandGets >= DIVERGENCE_SAMPLE) return;
        this.#demandGets++;
        if (this.#planned.has(actionId)) this.#demandInManifest++;
        if (this.#demandGets === DIVERGENCE_SAMPLE && this.#demandInManifest < DIVERGENCE_SAMPLE * DIVERGENCE_MIN_SHARE) {
          this.stop(`only ${this.#demandInManifest} of the build's first ${DIVERGENCE_SAMPLE} gets were in the manifest (another Go version, other flags or another build)`);
        }
      }
      /**
       * Stops prefetching; entries in flight finish.
       *
       * @param reason Why, for the one message.
       * @param quiet Say nothing (the build simply finished first).
       */
      stop(reason, quiet = false) {
        if (this.#stopped !== void 0) return;
        this.#stopped = reason;
        if (!quiet && (this.#next < this.#records.length || this.#inFlight > 0)) this.#onStop(reason);
        this.#settleIfFinished();
      }
      #untrusted(record, size) {
        return `the build manifest says ${record.size} bytes for action ${record.actionId}, which holds ${size}: its sizes are not trusted any further`;
      }
      #pump() {
        while (this.#stopped === void 0 && this.#next < this.#records.length && this.#inFlight < this.#window) {
          const record = this.#records[this.#next];
          if (this.#inFlight > 0 && this.#inFlightBytes + record.size > this.#windowBytes) return;
          this.#next++;
          if (this.#skip(record.actionId)) continue;
          this.#inFlight++;
          this.#inFlightBytes += record.size;
          const claim = record.size >= MANIFEST_SIZE_LIMIT ? Infinity : record.size;
          const allowed = Math.min(claim, this.#maxBytes - this.metrics.fetchedBytes);
          this.#fetch(record.actionId, allowed).then((size) => {
            if (size === void 0) {
              this.metrics.missing++;
              return;
            }
            this.metrics.fetched++;
            this.metrics.fetchedBytes += size;
            this.#fetched.set(record.actionId, size);
            if (size !== record.size && claim !== Infinity) {
              this.stop(this.#untrusted(record, size));
            } else if (this.metrics.fetchedBytes >= this.#maxBytes) {
              this.stop("the prefetch budget is spent", true);
            }
          }, (error) => {
            if (error instanceof EntryTooLargeError && error.limit === claim) {
              this.stop(this.#untrusted(record, error.size));
            } else if (error instanceof EntryTooLargeError) {
              this.stop("the prefetch budget is spent", true);
            } else {
              this.stop(`a fetch failed (${messageOf(error)})`, this.#failsQuietly(error));
            }
          }).finally(() => {
            this.#inFlight--;
            this.#inFlightBytes -= record.size;
            this.#pump();
            this.#settleIfFinished();
          });
        }
      }
    };
  }
});

// src/tiered/manifest_session.ts
function isRemoteFailure(error) {
  return error instanceof DeadlineError || error instanceof RemoteUnavailableError || error instanceof RemoteAuthError;
}
var NO_PREFETCH, ManifestSession;
var init_manifest_session = __esm({
  "src/tiered/manifest_session.ts"() {
    init_errors();
    init_sha256();
    init_manifest_format();
    init_manifest();
    init_prefetcher();
    NO_PREFETCH = {
      prefetchPlanned: 0,
      prefetched: 0,
      prefetchedBytes: 0,
      prefetchUsed: 0,
      prefetchUsedBytes: 0,
      prefetchMissing: 0
    };
    ManifestSession = class {
      #options;
      #context;
      #fetcher;
      #recorder = new ManifestRecorder();
      #prefetcher;
      /** Settles once the manifests have been read and the prefetch, if any, started. */
      #starting = Promise.resolve();
      #stopped = false;
      #startedAt = Date.now();
      /**
       * Creates a session; {@linkcode ManifestSession.start} starts the prefetch.
       *
       * @param options Where the manifests are, and what to do with them.
       * @param context The tier's shared pieces.
       * @param fetcher Fetches prefetched entries, sharing fetches with demand gets.
       */
      constructor(options, context, fetcher) {
        this.#options = options;
        this.#context = context;
        this.#fetcher = fetcher;
      }
      /**
       * The prefetch's counters: entries the manifests named that were not local
       * (`prefetchPlanned`), fetched (`prefetched`, `prefetchedBytes`), then asked for by the
       * go command (`prefetchUsed`, `prefetchUsedBytes`), and no longer in the remote
       * (`prefetchMissing`).
       *
       * @returns The counters.
       */
      counters() {
        const metrics = this.#prefetcher?.metrics;
        if (metrics === void 0) return {
          ...NO_PREFETCH
        };
        return {
          prefetchPlanned: metrics.planned,
          prefetched: metrics.fetched,
          prefetchedBytes: metrics.fetchedBytes,
          prefetchUsed: metrics.used,
          prefetchUsedBytes: metrics.usedBytes,
          prefetchMissing: metrics.missing
        };
      }
      /**
       * Records a hit or a put for this build's manifest.
       *
       * @param actionId The ActionID in hex.
       * @param size The entry's size.
       */
      note(actionId, size) {
        this.#recorder.note(actionId, size);
      }
      /**
       * Tells the prefetch of a get of the go command's.
       *
       * @param actionId The ActionID the go command asked for.
       */
      noteDemand(actionId) {
        this.#prefetcher?.noteDemand(actionId);
      }
      /**
       * Reads the manifests and starts prefetching what is not local, in the background.
       *
       * @param remote The connected remote.
       */
      start(remote) {
        this.#starting = this.#startPrefetch(remote);
      }
      /**
       * Whether the prefetch has work in flight or queued.
       *
       * @returns `true` while it has.
       */
      busy() {
        return this.#prefetcher?.busy() ?? false;
      }
      /** Waits until the manifests have been read and the prefetch, if any, has finished. */
      async finished() {
        await this.#starting;
        await this.#prefetcher?.finished();
      }
      /** Stops prefetching (quietly: the go command finished first). */
      stop() {
        this.#stopped = true;
        this.#prefetcher?.stop("the go command finished", true);
      }
      /**
       * Writes what this go command used to its manifests: its own scope's, and the
       * default's on the default branch. Never in read-only mode, and never to a remote
       * that may not be asked.
       */
      async write() {
        const options = this.#options;
        const { link, logger, readOnly } = this.#context;
        const remote = link.remote;
        const records = this.#recorder.records;
        if (!options.write || readOnly || records.length === 0 || remote?.writeManifest === void 0 || link.state !== "up") {
          return;
        }
        const names = await this.#names();
        const targets = [
          .../* @__PURE__ */ new Set([
            names.own,
            options.scopes.writesDefault ? names.default : void 0
          ])
        ].filter((name) => name !== void 0);
        if (targets.length === 0) return;
        const jobIdentity = options.scopes.jobId ?? `${Deno.pid}-${this.#startedAt}`;
        const jobHash = (await sha256HexOfText(jobIdentity)).slice(0, 32);
        const header = encodeManifestHeader(jobHash, Date.now());
        const body = encodeManifestRecords(records);
        for (const name of targets) {
          await remote.writeManifest(name, {
            jobHash,
            header,
            records: body
          }).catch((error) => logger.warnOnce("manifest-write", `cannot write the build manifest: ${messageOf(error)}`));
        }
      }
      /** The names of this build's manifests: its own scope's, its base's, the default's. */
      async #names() {
        const scopes = this.#options.scopes;
        const kind = scopes.toolchain === "" ? scopes.buildType : `${scopes.buildType}
${scopes.toolchain}`;
        const type = (await sha256HexOfText(kind)).slice(0, 16);
        const names = {};
        if (scopes.own !== void 0) names.own = `${type}:${scopes.own}`;
        if (scopes.base !== void 0) names.base = `${type}:${scopes.base}`;
        if (scopes.default !== void 0) names.default = `${type}:${scopes.default}`;
        return names;
      }
      /** Reads the manifests (one round trip) and starts prefetching what is not local. */
      async #startPrefetch(remote) {
        const options = this.#options;
        const { local, logger, link } = this.#context;
        if (remote.readManifests === void 0 || options.prefetchMaxBytes <= 0) return;
        try {
          const names = await this.#names();
          const slots = [
            "own",
            "base",
            "default"
          ].filter((slot) => names[slot] !== void 0);
          const values = await remote.readManifests(slots.map((slot) => names[slot]));
          const found = {};
          slots.forEach((slot, i) => {
            const value = values[i];
            if (value === void 0) return;
            const manifest = decodeManifest(value);
            if (manifest === void 0) {
              logger.warnOnce("manifest-damaged", `ignoring a damaged build manifest (${names[slot]})`);
            } else {
              found[slot] = manifest;
            }
          });
          const records = selectPrefetch(found, {
            isLocal: (actionId) => local.has(actionId),
            maxBytes: options.prefetchMaxBytes
          });
          if (records.length === 0 || this.#stopped) return;
          const fetcher = this.#fetcher;
          this.#prefetcher = new Prefetcher({
            records,
            fetch: async (actionId, maxBytes) => (await fetcher.fetch(actionId, "prefetch", maxBytes))?.size,
            skip: (actionId) => fetcher.isFetching(actionId) || local.has(actionId),
            maxBytes: options.prefetchMaxBytes,
            onStop: (reason) => logger.warnOnce("prefetch-stopped", `prefetching stopped: ${reason}`),
            failsQuietly: (error) => error instanceof ClosedError || isRemoteFailure(error)
          });
          this.#prefetcher.start();
        } catch (error) {
          if (error instanceof ClosedError || link.closed) return;
          if (isRemoteFailure(error)) {
            link.failed(error);
            return;
          }
          logger.warnOnce("manifest-read", `cannot read build manifests (${messageOf(error)}); no prefetch`);
        }
      }
    };
  }
});

// src/tiered/remote_backed_store.ts
var RemoteBackedStore;
var init_remote_backed_store = __esm({
  "src/tiered/remote_backed_store.ts"() {
    init_store();
    init_metrics();
    init_clock();
    init_remote_link();
    init_fetcher();
    init_companions();
    init_upload_queue();
    init_defaults2();
    init_single_flight();
    init_manifest_session();
    RemoteBackedStore = class {
      /** Where the tier's parts registered their counters. */
      metrics;
      /** The tier's own work (connecting, fetches, uploads, prefetch) and the local store's. */
      background;
      #local;
      #readOnly;
      #uploadWaitMillis;
      #link;
      #fetcher;
      #companions;
      #uploads;
      #flight;
      #manifests;
      /** Settles once the manifests have been started, or will not be. */
      #manifestsStarted;
      /**
       * Creates the store; the remote connects in the background.
       *
       * @param options The tiers and the limits.
       */
      constructor(options) {
        const { local, logger } = options;
        const clock = options.clock ?? SYSTEM_CLOCK;
        this.#local = local;
        this.#readOnly = options.readOnly ?? false;
        this.#uploadWaitMillis = options.uploadWaitMillis ?? DEFAULT_UPLOAD_WAIT_MILLIS;
        const link = this.#link = new RemoteLink({
          remote: options.remote,
          logger,
          clock,
          timeoutMillis: options.timeoutMillis ?? DEFAULT_REMOTE_TIMEOUT_MILLIS,
          breakerCooldownMillis: options.breakerCooldownMillis ?? DEFAULT_BREAKER_COOLDOWN_MILLIS,
          ...options.health === void 0 ? {} : {
            health: options.health
          },
          ...options.unavailableMeans === void 0 ? {} : {
            unavailableMeans: options.unavailableMeans
          }
        });
        const context = {
          link,
          local,
          logger,
          clock,
          readOnly: this.#readOnly
        };
        const flight = this.#flight = new SingleFlight(context, {
          waitMillis: options.fleetWaitMillis ?? DEFAULT_FLEET_WAIT_MILLIS,
          ...options.fleetLeaseMillis === void 0 ? {} : {
            leaseMillis: options.fleetLeaseMillis
          },
          ...options.fleetOwner === void 0 ? {} : {
            owner: options.fleetOwner
          }
        });
        this.#fetcher = new Fetcher(context, flight);
        this.#companions = new Companions({
          enabled: options.speculate ?? true,
          local,
          fetcher: this.#fetcher,
          link
        });
        this.#uploads = new UploadQueue({
          link,
          local,
          logger,
          clock,
          onFinished: (actionId) => flight.finished(actionId),
          ...options.uploadConcurrency === void 0 ? {} : {
            concurrency: options.uploadConcurrency
          },
          ...options.maxQueuedUploads === void 0 ? {} : {
            maxQueued: options.maxQueuedUploads
          }
        });
        const manifests = options.manifests === void 0 ? void 0 : new ManifestSession(options.manifests, context, this.#fetcher);
        this.#manifests = manifests;
        this.#manifestsStarted = link.connected.then((remote) => {
          if (remote !== void 0 && link.state === "up") manifests?.start(remote);
        });
        const metrics = this.metrics = options.metrics ?? new MetricsRegistry();
        metrics.register("link", link);
        metrics.register("fetch", this.#fetcher);
        metrics.register("companions", this.#companions);
        metrics.register("uploads", this.#uploads);
        metrics.register("fleet", flight);
        if (manifests !== void 0) metrics.register("prefetch", manifests);
        this.background = {
          busy: () => link.busy() || this.#uploads.busy() || this.#fetcher.busy() || flight.busy() || (manifests?.busy() ?? false),
          runDeferred: () => local.background?.runDeferred()
        };
      }
      /**
       * Looks an entry up locally, then remotely; a remote hit is stored locally first.
       *
       * @param actionId The ActionID in hex.
       * @returns The hit, or `undefined` on a miss, at once for a local answer.
       */
      get(actionId) {
        this.#companions.noteGet(actionId);
        this.#manifests?.noteDemand(actionId);
        const local = this.#local.get(actionId);
        if (local instanceof Promise) {
          return local.then((hit) => hit === void 0 ? this.#getRemote(actionId) : this.#record(actionId, hit));
        }
        if (local !== void 0) return this.#record(actionId, local);
        return this.#getRemote(actionId);
      }
      /**
       * Stores an entry locally; once stored, it is queued for upload.
       *
       * @param request The entry's IDs and size.
       * @returns The writer for its body.
       */
      startPut(request) {
        const local = this.#local.startPut(request);
        return {
          write: (chunk) => local.write(chunk),
          abort: () => local.abort(),
          commit: () => {
            const committed = local.commit();
            if (committed instanceof Promise) {
              return committed.then((hit) => this.#afterPut(request, hit));
            }
            return this.#afterPut(request, committed);
          }
        };
      }
      /**
       * Waits for the prefetch from build manifests to finish: every entry fetched, or
       * prefetching stopped. Settles at once when there was nothing to prefetch.
       *
       * @returns What was prefetched, and whether the remote could be used at all.
       */
      async prefetchFinished() {
        await this.#manifestsStarted;
        await this.#manifests?.finished();
        const counters = this.#manifests?.counters();
        return {
          remoteAvailable: this.#link.state === "up",
          planned: counters?.prefetchPlanned ?? 0,
          fetched: counters?.prefetched ?? 0,
          fetchedBytes: counters?.prefetchedBytes ?? 0
        };
      }
      /**
       * Stops prefetching, waits for uploads at most the upload wait, ends the leases still
       * held, writes the build manifests, and closes both tiers.
       */
      async close() {
        this.#manifests?.stop();
        await this.#uploads.drain(this.#uploadWaitMillis);
        await this.#flight.close();
        await this.#manifests?.write();
        await this.#link.close();
        await this.#local.close();
      }
      /** Asks the remote on a local miss, and fetches the stdout companion alongside. */
      #getRemote(actionId) {
        const fetch = this.#fetcher.demand(actionId);
        if (!(fetch instanceof Promise)) return fetch;
        this.#companions.follow(actionId, fetch);
        return fetch.then((hit) => this.#record(actionId, hit));
      }
      /** Notes a hit for this build's manifest. */
      #record(actionId, hit) {
        if (hit !== void 0) this.#manifests?.note(actionId, hit.size);
        return hit;
      }
      #afterPut(request, hit) {
        this.#manifests?.note(request.actionId, hit.size);
        const remoteMissed = this.#fetcher.takeRemoteMiss(request.actionId);
        if (!this.#readOnly) {
          this.#uploads.add({
            actionId: request.actionId,
            outputId: hit.outputId,
            size: hit.size,
            timeNanos: hit.timeNanos,
            remoteMissed,
            ...request.computeMillis === void 0 ? {} : {
              computeMillis: request.computeMillis
            }
          });
        }
        return hit;
      }
    };
  }
});

// src/local/health_file.ts
var HEALTH_FILE, DOWN_MEMORY_MILLIS, HealthFile;
var init_health_file = __esm({
  "src/local/health_file.ts"() {
    init_store_files();
    HEALTH_FILE = "gocacheprog-remote-down.json";
    DOWN_MEMORY_MILLIS = 10 * 6e4;
    HealthFile = class {
      #path;
      #remote;
      #now;
      /**
       * Opens the health record of one remote in a cache directory.
       *
       * @param dir The cache directory.
       * @param remote Which remote (its addresses): another remote's record is not this one's.
       * @param now The wall-clock time in milliseconds; `Date.now` unless given.
       */
      constructor(dir, remote, now = Date.now) {
        this.#path = `${dir}/${HEALTH_FILE}`;
        this.#remote = remote;
        this.#now = now;
      }
      /**
       * Whether another process found this remote unreachable, recently.
       *
       * @returns `true` while the record says so.
       */
      knownDown() {
        let record;
        try {
          record = JSON.parse(Deno.readTextFileSync(this.#path));
        } catch {
          return false;
        }
        if (typeof record !== "object" || record === null) return false;
        const { remote, downUntil } = record;
        return remote === this.#remote && typeof downUntil === "number" && downUntil > this.#now();
      }
      /**
       * Records that the remote is unreachable.
       *
       * @param reason Why, for whoever reads the file.
       */
      markDown(reason) {
        const record = {
          remote: this.#remote,
          downUntil: this.#now() + DOWN_MEMORY_MILLIS,
          reason
        };
        const temporary = temporaryPath(this.#path);
        try {
          Deno.writeTextFileSync(temporary, JSON.stringify(record) + "\n");
          Deno.renameSync(temporary, this.#path);
        } catch {
          try {
            Deno.removeSync(temporary);
          } catch {
          }
        }
      }
      /** Records that the remote answered: removes this remote's record, if there is one. */
      markUp() {
        if (!this.knownDownOrExpired()) return;
        try {
          Deno.removeSync(this.#path);
        } catch {
        }
      }
      /** Whether this remote has a record, current or not. */
      knownDownOrExpired() {
        try {
          return JSON.parse(Deno.readTextFileSync(this.#path)).remote === this.#remote;
        } catch {
          return false;
        }
      }
    };
  }
});

// src/redis/value_format.ts
function keyNamespace(prefix) {
  const problem = prefixProblem(prefix);
  if (problem !== void 0) throw new TypeError(problem);
  return prefix === "" ? "gocacheprog:" : `gocacheprog:${prefix}:`;
}
function entryKey(namespace, actionId) {
  return `${namespace}{${actionId}}`;
}
function leaseKey(namespace, actionId) {
  return `${entryKey(namespace, actionId)}:lease`;
}
function manifestKey(namespace, name) {
  return `${namespace}{m:${name}}`;
}
function chunkKey(namespace, header, index) {
  return `${entryKey(namespace, header.actionId)}:${header.outputId.slice(0, 16)}:${index}`;
}
function chunkCountOf(storedSize) {
  return Math.max(1, Math.ceil(storedSize / CHUNK_BYTES));
}
function encodeHeader(header) {
  const head = new Uint8Array(HEADER_BYTES);
  head.set(MAGIC2, 0);
  head[4] = VERSION3;
  head[5] = header.encoding === "zstd" ? 1 : 0;
  const centis = Math.min(Math.ceil((header.computeMillis ?? 0) / 10), 65535);
  head.set(Uint8Array.fromHex(header.outputId), 8);
  const view = new DataView(head.buffer);
  view.setUint16(6, centis, true);
  view.setBigUint64(40, BigInt(header.size), true);
  view.setBigInt64(48, header.timeNanos, true);
  view.setBigUint64(56, BigInt(header.storedSize), true);
  view.setUint32(64, chunkCountOf(header.storedSize), true);
  view.setUint32(68, CHUNK_BYTES, true);
  return head;
}
function decodeHeader(value) {
  if (value.length < HEADER_BYTES) return void 0;
  if (MAGIC2.some((byte, i) => value[i] !== byte) || value[4] !== VERSION3 || value[5] > 1) {
    return void 0;
  }
  const view = new DataView(value.buffer, value.byteOffset, HEADER_BYTES);
  const size = Number(view.getBigUint64(40, true));
  const storedSize = Number(view.getBigUint64(56, true));
  const chunkCount = view.getUint32(64, true);
  const chunkSize = view.getUint32(68, true);
  const encoding = value[5] === 1 ? "zstd" : "none";
  if (size > MAX_REMOTE_ENTRY_BYTES || storedSize > MAX_REMOTE_ENTRY_BYTES || chunkSize === 0 || chunkCount !== Math.max(1, Math.ceil(storedSize / chunkSize)) || encoding === "zstd" && size > MAX_COMPRESSED_BODY_BYTES || encoding === "none" && storedSize !== size) {
    return void 0;
  }
  const header = {
    outputId: value.subarray(8, 40).toHex(),
    size,
    timeNanos: view.getBigInt64(48, true),
    encoding,
    storedSize,
    chunkCount,
    chunkSize
  };
  const centis = view.getUint16(6, true);
  if (centis > 0) header.computeMillis = centis * 10;
  return header;
}
var HEADER_BYTES, CHUNK_BYTES, MAX_COMPRESSED_BODY_BYTES, MAGIC2, VERSION3;
var init_value_format = __esm({
  "src/redis/value_format.ts"() {
    init_store();
    init_address();
    HEADER_BYTES = 72;
    CHUNK_BYTES = 1 << 20;
    MAX_COMPRESSED_BODY_BYTES = 64 << 20;
    MAGIC2 = [
      71,
      67,
      80,
      82
    ];
    VERSION3 = 1;
  }
});

// src/redis/transport.ts
function errorFromReply(text2) {
  const code = /^[A-Z]+/.exec(text2)?.[0] ?? "ERR";
  switch (code) {
    case "OOM":
      return new RemoteFullError(text2);
    case "WRONGPASS":
    case "NOAUTH":
    case "NOPERM":
      return new RemoteAuthError(text2);
    default:
      return new RedisReplyError(code, text2);
  }
}
function ageDeadlineMillis(baseMillis, args, expectedReplyBytes = 0) {
  const bytes = args.reduce((sum, arg) => sum + argBytes(arg), expectedReplyBytes);
  return baseMillis + Math.ceil(1e3 * bytes / FLOOR_BYTES_PER_SECOND);
}
function valueOrNull(reply, command) {
  if (reply === null || reply instanceof Uint8Array) return reply;
  throw new TypeError(`Redis answered ${command} with something other than a value`);
}
function argBytes(arg) {
  if (typeof arg === "string" || arg instanceof Uint8Array) return arg.length;
  return arg.reduce((sum, part) => sum + part.length, 0);
}
function notConnected(description, lastError) {
  return new RemoteUnavailableError(`${description} is not connected` + (lastError === void 0 ? "" : ` (${lastError.message})`), {
    cause: lastError
  });
}
var FLOOR_BYTES_PER_SECOND, RedisReplyError;
var init_transport = __esm({
  "src/redis/transport.ts"() {
    init_errors();
    FLOOR_BYTES_PER_SECOND = 1e6;
    RedisReplyError = class extends Error {
      /** The Redis error code: the reply's first word, such as `ERR` or `READONLY`. */
      code;
      /**
       * Creates the error.
       *
       * @param code The error code.
       * @param message The whole reply.
       */
      constructor(code, message) {
        super(message);
        this.name = "RedisReplyError";
        this.code = code;
      }
    };
  }
});

// src/redis/resp_codec.ts
function encodeCommand(args) {
  const parts = [
    encoder3.encode(`*${args.length}\r
`)
  ];
  let bytes = 0;
  for (const arg of args) {
    const pieces = typeof arg === "string" ? [
      encoder3.encode(arg)
    ] : arg instanceof Uint8Array ? [
      arg
    ] : arg;
    const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
    parts.push(encoder3.encode(`$${length}\r
`), ...pieces, encoder3.encode("\r\n"));
    bytes += length;
  }
  return {
    parts,
    bytes
  };
}
function integer(text2, line) {
  if (!INTEGER.test(text2)) {
    throw new RespProtocolError(`Unexpected reply from Redis: ${JSON.stringify(line.slice(0, 40))}`);
  }
  return Number(text2);
}
function closedInReply() {
  return new StreamEndedError("Redis closed the connection");
}
var RespProtocolError, StreamEndedError, RESP_BUFFER_BYTES, CR, encoder3, decoder, INTEGER, RespReader;
var init_resp_codec = __esm({
  "src/redis/resp_codec.ts"() {
    init_transport();
    init_errors();
    RespProtocolError = class extends Error {
      /**
       * Creates the error.
       *
       * @param message What is wrong.
       * @param options The underlying error, if any.
       */
      constructor(message, options) {
        super(message, options);
        this.name = "RespProtocolError";
      }
    };
    StreamEndedError = class extends RemoteUnavailableError {
      /**
       * Creates the error.
       *
       * @param message What ended.
       */
      constructor(message) {
        super(message);
        this.name = "StreamEndedError";
      }
    };
    RESP_BUFFER_BYTES = 1 << 16;
    CR = 13;
    encoder3 = new TextEncoder();
    decoder = new TextDecoder();
    INTEGER = /^-?\d+$/;
    RespReader = class {
      #read;
      #buffer = new Uint8Array(RESP_BUFFER_BYTES);
      #start = 0;
      #end = 0;
      /**
       * Creates a parser.
       *
       * @param read Reads the next bytes.
       */
      constructor(read) {
        this.#read = read;
      }
      /**
       * Reads one reply. An error reply is returned, as the typed error
       * {@linkcode errorFromReply} gives, not thrown: the stream goes on after it.
       *
       * @param options Where a bulk value may go, and who is told its length.
       * @returns The reply, or the error it stands for.
       * @throws {RespProtocolError} If the reply does not follow RESP2.
       * @throws {RemoteUnavailableError} If the stream ends inside a reply.
       */
      async readReply(options = {}) {
        return await this.#readReply(options, false);
      }
      async #readReply(options, nested) {
        const line = await this.#readLine();
        const type = line[0];
        const rest = line.slice(1);
        switch (type) {
          case "+":
            return encoder3.encode(rest);
          case "-":
            return errorFromReply(rest);
          case ":":
            return integer(rest, line);
          case "$": {
            const length = integer(rest, line);
            if (length < 0) return null;
            options.onBulkLength?.(length);
            const into = nested ? void 0 : options.into?.(length);
            return await this.#readBulk(length, into?.length === length ? into : void 0);
          }
          case "*": {
            const count = integer(rest, line);
            if (count < 0) return null;
            const items = [];
            for (let i = 0; i < count; i++) {
              const item = await this.#readReply(options, true);
              if (item instanceof Error) {
                throw new RespProtocolError("Redis sent an error inside an array");
              }
              items.push(item);
            }
            return items;
          }
          default:
            throw new RespProtocolError(`Unexpected reply from Redis: ${JSON.stringify(line.slice(0, 40))}`);
        }
      }
      /** Reads a bulk value of `length` bytes and its CRLF. */
      async #readBulk(length, into) {
        const value = into ?? new Uint8Array(length);
        const buffered = Math.min(length, this.#end - this.#start);
        value.set(this.#buffer.subarray(this.#start, this.#start + buffered));
        this.#start += buffered;
        let have = buffered;
        while (have < length) {
          const count = await this.#read(value.subarray(have));
          if (count === null) throw closedInReply();
          have += count;
        }
        if (await this.#readLine() !== "") {
          throw new RespProtocolError("A bulk value from Redis is longer than announced");
        }
        return value;
      }
      /** Reads up to the next CRLF; returns the text before it. */
      async #readLine() {
        for (; ; ) {
          const end = this.#buffer.subarray(this.#start, this.#end).indexOf(CR);
          if (end >= 0 && this.#start + end + 1 < this.#end) {
            if (this.#buffer[this.#start + end + 1] !== 10) {
              throw new RespProtocolError("A reply line from Redis does not end in CRLF");
            }
            const line = decoder.decode(this.#buffer.subarray(this.#start, this.#start + end));
            this.#start += end + 2;
            return line;
          }
          this.#buffer.copyWithin(0, this.#start, this.#end);
          this.#end -= this.#start;
          this.#start = 0;
          if (this.#end === this.#buffer.length) {
            throw new RespProtocolError("A reply line from Redis is too long");
          }
          const count = await this.#read(this.#buffer.subarray(this.#end));
          if (count === null) throw closedInReply();
          this.#end += count;
        }
      }
    };
  }
});

// src/redis/progress_watchdog.ts
var SOCKET_BUFFER_BYTES, ProgressWatchdog;
var init_progress_watchdog = __esm({
  "src/redis/progress_watchdog.ts"() {
    init_errors();
    SOCKET_BUFFER_BYTES = 4 << 20;
    ProgressWatchdog = class {
      #deadline;
      #clock;
      #head;
      #onLate;
      /** When a byte last moved, in either direction. */
      #lastProgress;
      /** Bytes written since a byte was last read: they may still be in the send buffer. */
      #unconfirmed = 0;
      /** Cancels the armed check; `undefined` while none is armed. */
      #cancel;
      #stopped = false;
      /**
       * Creates a watchdog; {@linkcode ProgressWatchdog.arm} starts it.
       *
       * @param deadline The stall deadline and the floor rate.
       * @param clock The clock.
       * @param head The command at the head of the pipeline, if any.
       * @param onLate Called once, when a deadline is missed.
       */
      constructor(deadline, clock, head, onLate) {
        this.#deadline = deadline;
        this.#clock = clock;
        this.#head = head;
        this.#onLate = onLate;
        this.#lastProgress = clock.now();
      }
      /** Notes that a command was sent on an idle connection: its clock starts now. */
      startedIdle() {
        this.#lastProgress = this.#clock.now();
      }
      /**
       * Notes bytes written.
       *
       * @param count How many.
       */
      wrote(count) {
        this.#unconfirmed += count;
        this.#lastProgress = this.#clock.now();
      }
      /** Notes bytes read: the server is moving, and has read what was sent before. */
      read() {
        this.#lastProgress = this.#clock.now();
        this.#unconfirmed = 0;
      }
      /** Checks the deadlines every quarter of the stall deadline while commands wait. */
      arm() {
        if (this.#stopped || this.#cancel !== void 0) return;
        const deadline = this.#deadline;
        this.#cancel = this.#clock.after(deadline.stallMillis / 4, () => {
          this.#cancel = void 0;
          const head = this.#head();
          if (head === void 0 || this.#stopped) return;
          const now = this.#clock.now();
          const buffered = Math.min(this.#unconfirmed, SOCKET_BUFFER_BYTES);
          const stall = deadline.stallMillis + 1e3 * buffered / deadline.floorBytesPerSecond;
          if (now - this.#lastProgress > stall) {
            this.#late(new DeadlineError(`Redis ${head.name} (no byte moved)`, stall));
            return;
          }
          const allowed = deadline.stallMillis + 1e3 * head.bytes / deadline.floorBytesPerSecond;
          if (now - head.since > allowed) {
            this.#late(new DeadlineError(`Redis ${head.name}`, allowed));
            return;
          }
          this.arm();
        });
      }
      /** Stops watching for good. */
      stop() {
        this.#stopped = true;
        this.#cancel?.();
        this.#cancel = void 0;
      }
      #late(error) {
        this.stop();
        this.#onLate(error);
      }
    };
  }
});

// src/redis/resp_connection.ts
function lost(error) {
  if (error instanceof DeadlineError || error instanceof ClosedError || error instanceof RemoteUnavailableError || error instanceof RespProtocolError) {
    return error;
  }
  return new RemoteUnavailableError(`the connection to Redis was lost (${error.message})`, {
    cause: error
  });
}
function plainAgainstTls(error, options) {
  const dropped = error instanceof Deno.errors.ConnectionReset || error instanceof StreamEndedError || error instanceof RemoteUnavailableError && error.cause instanceof Deno.errors.ConnectionReset;
  if (!dropped) return void 0;
  return new RemoteUnavailableError(`${options.host}:${options.port} dropped the connection before answering: if it serves TLS, use a rediss:// address (and --redis-tls-ca for a private CA)`, {
    cause: error
  });
}
async function connect(options) {
  if (options.tls === void 0) {
    const tcp = await Deno.connect({
      hostname: options.host,
      port: options.port
    });
    tcp.setNoDelay(true);
    return tcp;
  }
  return await Deno.connectTls({
    hostname: options.host,
    port: options.port,
    ...options.tls.ca === void 0 ? {} : {
      caCerts: [
        options.tls.ca
      ]
    },
    ...options.tls.cert === void 0 || options.tls.key === void 0 ? {} : {
      cert: options.tls.cert,
      key: options.tls.key
    }
  });
}
function isRedisAnswer(error) {
  return error instanceof RedisReplyError || error instanceof RemoteAuthError || error instanceof RemoteFullError || error instanceof Deno.errors.ConnectionRefused || error instanceof Deno.errors.NotCapable;
}
var RespConnection;
var init_resp_connection = __esm({
  "src/redis/resp_connection.ts"() {
    init_transport();
    init_resp_codec();
    init_progress_watchdog();
    init_clock();
    init_bytes();
    init_errors();
    RespConnection = class _RespConnection {
      #conn;
      #pending = [];
      #writing = Promise.resolve();
      #failure;
      #clock;
      #watchdog;
      constructor(conn, deadline, clock) {
        this.#conn = conn;
        this.#clock = clock;
        if (deadline !== void 0) {
          this.#watchdog = new ProgressWatchdog(deadline, clock, () => this.#pending[0], (error) => this.#fail(error));
        }
        this.#readReplies().catch((error) => this.#fail(lost(error)));
      }
      /**
       * Connects, authenticates and selects the database.
       *
       * @param options Where and how.
       * @returns The open connection.
       * @throws {RemoteAuthError} If Redis refuses the credentials; also the connection's
       * own error, or Redis' answer to `SELECT`.
       */
      static async open(options) {
        let connection;
        try {
          connection = new _RespConnection(await connect(options), options.deadline, options.clock ?? SYSTEM_CLOCK);
          if (options.password !== void 0) {
            const auth = options.username === void 0 ? [
              "AUTH",
              options.password
            ] : [
              "AUTH",
              options.username,
              options.password
            ];
            await connection.command(auth);
          }
          if (options.db !== void 0 && options.db !== 0) {
            await connection.command([
              "SELECT",
              String(options.db)
            ]);
          } else if (options.password === void 0) {
            await connection.command([
              "PING"
            ]);
          }
          return connection;
        } catch (error) {
          connection?.close();
          if (options.tls === void 0) throw plainAgainstTls(error, options) ?? error;
          throw isRedisAnswer(error) ? error : new RemoteTlsError(`the TLS session with ${options.host}:${options.port} failed (${messageOf(error)})`, {
            cause: error
          });
        }
      }
      /** How many commands wait for their replies. */
      get pending() {
        return this.#pending.length;
      }
      /** Whether the connection has failed or been closed. */
      get closed() {
        return this.#failure !== void 0;
      }
      /**
       * Sends one command; replies come back in order.
       *
       * @param args The command and its arguments; an argument given as several arrays is
       * sent as one value, written part by part (no copy to join them).
       * @param into Where a bulk reply of exactly its length goes (no copy from a buffer of
       * our own): it is then the reply itself.
       * @returns The reply.
       * @throws An error reply, as the typed error `errorFromReply` gives; the connection's
       * error if it fails; a `ClosedError` if it is closed first.
       */
      command(args, into) {
        if (this.#failure !== void 0) return Promise.reject(this.#failure);
        const { parts, reply } = this.#enqueue(args, into);
        this.#write(parts);
        return reply;
      }
      /**
       * Sends commands in one write, so that they travel in one packet when they are small
       * and Redis reads them at once; replies come back in order.
       *
       * @param commands The commands, each with its arguments.
       * @returns Each command's reply (see {@linkcode RespConnection.command}).
       */
      commands(commands) {
        const failure = this.#failure;
        if (failure !== void 0) return commands.map(() => Promise.reject(failure));
        const parts = [];
        const replies = commands.map((args) => {
          const queued = this.#enqueue(args, void 0);
          parts.push(...queued.parts);
          return queued.reply;
        });
        this.#write(parts);
        return replies;
      }
      /** Encodes a command and waits for its reply, in the order of sending. */
      #enqueue(args, into) {
        const { parts, bytes } = encodeCommand(args);
        if (this.#pending.length === 0) this.#watchdog?.startedIdle();
        const since = this.#clock.now();
        const reply = new Promise((resolve, reject) => this.#pending.push({
          resolve,
          reject,
          name: String(args[0]),
          bytes,
          since,
          into
        }));
        return {
          parts,
          reply
        };
      }
      /** Writes after what is being written, and fails the connection if the write does. */
      #write(parts) {
        this.#watchdog?.arm();
        this.#writing = this.#writing.then(() => this.#writeAll(parts)).catch((error) => this.#fail(lost(error)));
      }
      /** Closes the connection; pending commands fail with a `ClosedError`. */
      close() {
        this.#fail(new ClosedError("the connection to Redis was closed"));
      }
      /** Writes small parts joined (one system call), and large ones as they are (no copy). */
      async #writeAll(parts) {
        let small = [];
        let smallBytes = 0;
        const flushSmall = async () => {
          if (small.length === 0) return;
          const joined = concatBytes(small, smallBytes);
          small = [];
          smallBytes = 0;
          await this.#writeFully(joined);
        };
        for (const part of parts) {
          if (part.length < RESP_BUFFER_BYTES) {
            small.push(part);
            smallBytes += part.length;
          } else {
            await flushSmall();
            await this.#writeFully(part);
          }
        }
        await flushSmall();
      }
      async #writeFully(bytes) {
        let written = 0;
        while (written < bytes.length) {
          const count = await this.#conn.write(bytes.subarray(written));
          written += count;
          this.#watchdog?.wrote(count);
        }
      }
      #fail(error) {
        if (this.#failure !== void 0) return;
        this.#failure = error;
        this.#watchdog?.stop();
        try {
          this.#conn.close();
        } catch {
        }
        for (const pending of this.#pending.splice(0)) pending.reject(error);
      }
      async #readReplies() {
        const reader = new RespReader(async (into) => {
          const count = await this.#conn.read(into);
          if (count !== null && count > 0) this.#watchdog?.read();
          return count;
        });
        const options = {
          // The reply's size is known now: the head command is allowed the time it takes.
          onBulkLength: (length) => {
            if (this.#pending[0] !== void 0) this.#pending[0].bytes += length;
          },
          into: () => this.#pending[0]?.into
        };
        while (this.#failure === void 0) {
          const reply = await reader.readReply(options);
          const pending = this.#pending.shift();
          if (pending === void 0) throw new Error("Redis sent a reply to no command");
          const next = this.#pending[0];
          if (next !== void 0) next.since = this.#clock.now();
          if (reply instanceof Error) pending.reject(reply);
          else pending.resolve(reply);
        }
      }
    };
  }
});

// src/redis/resp_transport.ts
var RECONNECT_INTERVAL_MILLIS, DEMAND_CONNECTIONS, RespTransport, ConnectionSlot;
var init_resp_transport = __esm({
  "src/redis/resp_transport.ts"() {
    init_errors();
    init_clock();
    init_resp_connection();
    init_transport();
    RECONNECT_INTERVAL_MILLIS = 5e3;
    DEMAND_CONNECTIONS = 2;
    RespTransport = class {
      description;
      /** Our RESP reader reads each value into an array of its own (or into the caller's). */
      valuesOwnTheirBuffers = true;
      #lastError;
      #lanes;
      #demand;
      #ready;
      /**
       * Starts connecting the demand lane.
       *
       * @param options Where, and the deadline.
       */
      constructor(options) {
        this.description = options.description;
        const connection = {
          ...options.connection,
          deadline: {
            stallMillis: options.timeoutMillis,
            floorBytesPerSecond: FLOOR_BYTES_PER_SECOND
          }
        };
        const onError = (error) => this.#lastError = error;
        const slot = () => new ConnectionSlot(connection, options.connectTimeoutMillis, onError);
        this.#demand = Array.from({
          length: DEMAND_CONNECTIONS
        }, slot);
        this.#lanes = {
          bulk: slot(),
          background: slot(),
          upload: slot()
        };
        this.#ready = this.#demand[0].open().then((connection2) => connection2 !== void 0);
      }
      /** The latest connection error. */
      get lastError() {
        return this.#lastError;
      }
      ready() {
        return this.#ready;
      }
      send(args, options) {
        return this.#onConnection(options?.lane ?? "demand", (connection) => connection.command(args, options?.into));
      }
      sendTogether(commands, lane = "demand") {
        return this.#onConnection(lane, (connection) => Promise.all(connection.commands(commands)));
      }
      /** Queues commands on a connection of the lane, opening it if need be. */
      #onConnection(lane, queue) {
        const slot = lane === "demand" ? this.#demandSlot() : this.#lanes[lane];
        const connection = slot.current;
        if (connection !== void 0) return queue(connection);
        return slot.open().then((opened) => {
          if (opened === void 0) throw notConnected(this.description, this.#lastError);
          return queue(opened);
        });
      }
      /** An idle demand connection's slot, else one not open yet, else the least busy. */
      #demandSlot() {
        const open = this.#demand.filter((slot) => slot.current !== void 0);
        const idle = open.find((slot) => slot.current.pending === 0);
        if (idle !== void 0) return idle;
        const unopened = this.#demand.find((slot) => slot.current === void 0);
        if (unopened !== void 0) return unopened;
        return open.reduce((least, slot) => slot.current.pending < least.current.pending ? slot : least);
      }
      nodes() {
        return Promise.resolve([
          {
            send: (args) => this.send(args)
          }
        ]);
      }
      close() {
        for (const slot of [
          ...this.#demand,
          ...Object.values(this.#lanes)
        ]) slot.close();
        return Promise.resolve();
      }
    };
    ConnectionSlot = class {
      #options;
      #connectTimeoutMillis;
      #onError;
      #connection;
      #current;
      #failedAt = -Infinity;
      #closed = false;
      constructor(options, connectTimeoutMillis, onError) {
        this.#options = options;
        this.#connectTimeoutMillis = connectTimeoutMillis;
        this.#onError = onError;
      }
      /** The connection if it is open and usable now, without waiting. */
      get current() {
        return this.#current !== void 0 && !this.#current.closed ? this.#current : void 0;
      }
      /** The open connection, or `undefined` while it cannot be opened (or once closed). */
      open() {
        this.#connection = (this.#connection ?? Promise.resolve(void 0)).then((connection) => {
          if (this.#closed) return void 0;
          if (connection !== void 0 && !connection.closed) return connection;
          if (performance.now() - this.#failedAt < RECONNECT_INTERVAL_MILLIS) return void 0;
          const opening = RespConnection.open(this.#options);
          return withDeadline(opening, this.#connectTimeoutMillis, "connecting").then((opened) => {
            if (this.#closed) {
              opened.close();
              return void 0;
            }
            this.#current = opened;
            return opened;
          }, (error) => {
            this.#onError(error instanceof Error ? error : new Error(messageOf(error)));
            this.#failedAt = performance.now();
            opening.then((late) => late.close(), () => {
            });
            return void 0;
          });
        });
        return this.#connection;
      }
      /**
       * Closes the connection, and one still being opened once it opens: without waiting for
       * it, so that a session whose remote never answered ends at once.
       */
      close() {
        this.#closed = true;
        this.#current?.close();
        this.#connection?.then((connection) => connection?.close(), () => {
        });
      }
    };
  }
});

// src/redis/ioredis_transport.ts
function loadIoredis() {
  ioredisLoading ??= Promise.all([
    import(IOREDIS_SPECIFIER),
    import("node:buffer")
  ]).then(([{ Redis, Cluster, ReplyError }, { Buffer: Buffer2 }]) => ({
    Redis,
    Cluster,
    ReplyError,
    Buffer: Buffer2
  }), (error) => {
    throw new RemoteUnavailableError(`ioredis, which a Redis Cluster or Sentinel needs, is not installed and cannot be fetched here (${messageOf(error).split("\n")[0]}); install it where npm can be reached: see the README's install section`, {
      cause: error
    });
  });
  return ioredisLoading;
}
async function call(client, ioredis, args, timeoutMillis) {
  const [name, ...rest] = args;
  const reply = client.callBuffer(String(name), ...rest.map((arg) => typeof arg === "string" ? arg : asBuffer(ioredis.Buffer, arg instanceof Uint8Array ? arg : concatBytes(arg, argBytes(arg)))));
  try {
    return normalize(await withDeadline(reply, ageDeadlineMillis(timeoutMillis, args, String(name).startsWith("GET") ? VALUE_BYTES : 0), String(name)));
  } catch (error) {
    if (error instanceof ioredis.ReplyError) throw errorFromReply(error.message);
    if (error instanceof DeadlineError) throw error;
    throw new RemoteUnavailableError(messageOf(error), {
      cause: error
    });
  }
}
function normalize(reply) {
  if (reply === null || reply === void 0) return null;
  if (typeof reply === "number") return reply;
  if (typeof reply === "string") return new TextEncoder().encode(reply);
  if (Array.isArray(reply)) return reply.map(normalize);
  const bytes = reply;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
function asBuffer(buffer, bytes) {
  return buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
function createClient(ioredis, options) {
  const tls = options.tls;
  const common = {
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMillis,
    maxRetriesPerRequest: 0,
    // Reading ioredis' own package.json for CLIENT SETINFO needs a read permission we do
    // not grant, and when it is denied a failed TLS handshake can hang connect() forever.
    disableClientInfo: true,
    // Keep trying in the background (the circuit breaker decides whether to use it).
    retryStrategy: (times) => Math.min(200 * times, 2e3),
    ...options.username === void 0 ? {} : {
      username: options.username
    },
    ...options.password === void 0 ? {} : {
      password: options.password
    }
  };
  if (options.sentinels !== void 0) {
    return new ioredis.Redis({
      ...common,
      ...tls === void 0 ? {} : {
        tls
      },
      sentinels: options.sentinels.addresses.map(({ host, port }) => ({
        host,
        port
      })),
      name: options.sentinels.name,
      sentinelRetryStrategy: (times) => times > 3 ? null : 200 * times,
      enableOfflineQueue: false
    });
  }
  const nodes = options.nodes ?? [];
  const { retryStrategy: _unused, ...redisOptions } = {
    ...common,
    ...tls === void 0 ? {} : {
      tls
    }
  };
  const clusterOptions = {
    lazyConnect: true,
    redisOptions,
    slotsRefreshTimeout: options.connectTimeoutMillis,
    clusterRetryStrategy: (times) => Math.min(200 * times, 2e3),
    enableOfflineQueue: false
  };
  return new ioredis.Cluster(nodes.map(({ host, port }) => ({
    host,
    port
  })), clusterOptions);
}
var VALUE_BYTES, IOREDIS_SPECIFIER, ioredisLoading, IoredisTransport;
var init_ioredis_transport = __esm({
  "src/redis/ioredis_transport.ts"() {
    init_errors();
    init_clock();
    init_bytes();
    init_transport();
    init_value_format();
    VALUE_BYTES = CHUNK_BYTES + HEADER_BYTES;
    IOREDIS_SPECIFIER = "npm:ioredis@^5.11.1";
    IoredisTransport = class {
      description;
      #lastError;
      #timeoutMillis;
      #client;
      #ready;
      /**
       * Loads ioredis and starts connecting.
       *
       * @param options Where, and the deadline.
       */
      constructor(options) {
        this.description = options.description;
        this.#timeoutMillis = options.timeoutMillis;
        this.#client = loadIoredis().then((ioredis) => {
          const client = createClient(ioredis, options);
          client.on("error", (error) => this.#lastError = error);
          return {
            client,
            ioredis
          };
        });
        this.#ready = this.#client.then(({ client }) => withDeadline(client.connect(), options.connectTimeoutMillis, "connecting")).then(() => true, (error) => {
          this.#lastError ??= error instanceof Error ? error : new Error(messageOf(error));
          return false;
        });
      }
      /** The latest connection error. */
      get lastError() {
        return this.#lastError;
      }
      ready() {
        return this.#ready;
      }
      async send(args) {
        const { client, ioredis } = await this.#connected();
        return await call(client, ioredis, args, this.#timeoutMillis);
      }
      sendTogether(commands) {
        return Promise.all(commands.map((args) => this.send(args)));
      }
      async nodes() {
        const { client, ioredis } = await this.#connected();
        const servers = client instanceof ioredis.Cluster ? client.nodes("master") : [
          client
        ];
        return servers.map((server) => ({
          send: (args) => call(server, ioredis, args, this.#timeoutMillis)
        }));
      }
      /** Disconnects, without waiting for ioredis to load or connect if it has not yet. */
      close() {
        this.#client.then(({ client }) => client.disconnect(), () => {
        });
        return Promise.resolve();
      }
      /** The client, once connected. */
      async #connected() {
        const loaded2 = await this.#client;
        if (loaded2.client.status !== "ready" && !await this.#ready) {
          throw notConnected(this.description, this.#lastError);
        }
        return loaded2;
      }
    };
  }
});

// src/redis/connect.ts
function openTransport(options) {
  const timeoutMillis = options.timeoutMillis ?? DEFAULT_REMOTE_TIMEOUT_MILLIS;
  const connectTimeoutMillis = options.connectTimeoutMillis ?? DEFAULT_CONNECT_TIMEOUT_MILLIS;
  const sentinels = (options.sentinels ?? []).map(parseRedisAddress);
  const addresses = sentinels.length > 0 ? sentinels : options.urls.map(parseRedisAddress);
  const first = addresses[0];
  if (first === void 0) throw new InvalidRedisAddressError("No Redis address given");
  const username = first.username ?? options.username;
  const password = first.password ?? options.password;
  const credentials = {
    ...username === void 0 ? {} : {
      username
    },
    ...password === void 0 ? {} : {
      password
    }
  };
  if (sentinels.length > 0) {
    const name = options.sentinelName ?? DEFAULT_SENTINEL_NAME;
    return new IoredisTransport({
      sentinels: {
        addresses: sentinels,
        name
      },
      ...credentials,
      ...options.tls === void 0 ? {} : {
        tls: options.tls
      },
      description: `Redis sentinel ${name} at ${sentinels.map(hostPort).join(",")}`,
      timeoutMillis,
      connectTimeoutMillis
    });
  }
  const tls = options.tls !== void 0 || first.tls ? {
    ...options.tls
  } : void 0;
  if (addresses.length > 1) {
    return new IoredisTransport({
      nodes: addresses,
      ...credentials,
      ...tls === void 0 ? {} : {
        tls
      },
      description: `Redis cluster ${addresses.map(hostPort).join(",")}`,
      timeoutMillis,
      connectTimeoutMillis
    });
  }
  return new RespTransport({
    connection: {
      host: first.host,
      port: first.port,
      db: first.db,
      ...credentials,
      ...tls === void 0 ? {} : {
        tls
      }
    },
    description: `Redis ${hostPort(first)}`,
    timeoutMillis,
    // A standalone server answers a connection within a round trip or two, and our own
    // code is already loaded: connecting gets the same deadline as a command.
    connectTimeoutMillis: timeoutMillis
  });
}
var init_connect = __esm({
  "src/redis/connect.ts"() {
    init_store();
    init_address();
    init_resp_transport();
    init_ioredis_transport();
    init_defaults();
  }
});

// src/redis/compression.ts
async function compressZstd(body) {
  const { zstdCompressSync } = await import("node:zlib");
  const compressed = zstdCompressSync(body);
  if (compressed.length >= body.length) return void 0;
  return new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.length);
}
async function decompressZstd(stored, size) {
  const { zstdDecompressSync } = await import("node:zlib");
  try {
    const body = zstdDecompressSync(stored, {
      maxOutputLength: size
    });
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  } catch (error) {
    throw new CorruptEntryError("its compressed body cannot be decompressed", {
      cause: error
    });
  }
}
var COMPRESS_MIN_BYTES;
var init_compression = __esm({
  "src/redis/compression.ts"() {
    init_errors();
    COMPRESS_MIN_BYTES = 1024;
  }
});

// src/redis/redis_manifests.ts
async function readManifests(send, namespace, names) {
  const last = String(MAX_MANIFEST_BYTES - 1);
  const values = await Promise.all(names.map((name) => send([
    "GETRANGE",
    manifestKey(namespace, name),
    "0",
    last
  ], "background")));
  return values.map((value) => {
    const bytes = valueOrNull(value, "GETRANGE");
    return bytes === null || bytes.length === 0 ? void 0 : bytes;
  });
}
async function writeManifest(send, target, manifest) {
  await send([
    "EVAL",
    MANIFEST_SCRIPT,
    "1",
    manifestKey(target.namespace, target.name),
    Uint8Array.fromHex(manifest.jobHash),
    manifest.header,
    manifest.records,
    target.ttlMillis,
    String(MAX_MANIFEST_BYTES)
  ], "upload");
}
var MANIFEST_SCRIPT;
var init_redis_manifests = __esm({
  "src/redis/redis_manifests.ts"() {
    init_manifest_format();
    init_transport();
    init_value_format();
    MANIFEST_SCRIPT = `
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
  }
});

// src/redis/redis_leases.ts
async function claimOrRead({ send, sendTogether }, target, claim) {
  const entry = entryKey(target.namespace, target.actionId);
  const lease = leaseKey(target.namespace, target.actionId);
  if (claim.leaseMillis === void 0 || target.ttlMillis === void 0) {
    const [value2, holder2] = await sendTogether([
      [
        "GET",
        entry
      ],
      [
        "GET",
        lease
      ]
    ], "demand");
    const head2 = valueOrNull(value2, "GET");
    if (head2 !== null) return {
      head: head2
    };
    const held2 = valueOrNull(holder2, "GET");
    return {
      head: null,
      holder: held2 === null ? void 0 : decoder2.decode(held2)
    };
  }
  const read = [
    "GETEX",
    entry,
    "PX",
    target.ttlMillis
  ];
  const [value, claimed] = await sendTogether([
    read,
    [
      "EVAL",
      CLAIM_SCRIPT,
      "2",
      entry,
      lease,
      claim.owner,
      String(claim.leaseMillis)
    ]
  ], "demand");
  const head = valueOrNull(value, "GETEX");
  const held = valueOrNull(claimed, "EVAL");
  const holder = held === null ? void 0 : decoder2.decode(held);
  if (head !== null) {
    if (holder === claim.owner) {
      releaseLeases(send, target.namespace, {
        actionIds: [
          target.actionId
        ],
        owner: claim.owner
      }).catch(() => {
      });
    }
    return {
      head
    };
  }
  if (holder !== void 0) return {
    head: null,
    holder
  };
  const landed = valueOrNull(await send(read, "demand"), "GETEX");
  return landed === null ? {
    head: null,
    holder: void 0
  } : {
    head: landed
  };
}
async function renewLeases(send, namespace, leases) {
  const replies = await Promise.all(leases.actionIds.map((actionId) => send([
    "EVAL",
    RENEW_SCRIPT,
    "1",
    leaseKey(namespace, actionId),
    leases.owner,
    String(leases.leaseMillis)
  ], "demand")));
  return replies.map((reply) => reply === 1);
}
async function releaseLeases(send, namespace, leases) {
  await Promise.all(leases.actionIds.map((actionId) => send([
    "EVAL",
    RELEASE_SCRIPT,
    "1",
    leaseKey(namespace, actionId),
    leases.owner
  ], "upload")));
}
var CLAIM_SCRIPT, RENEW_SCRIPT, RELEASE_SCRIPT, decoder2;
var init_redis_leases = __esm({
  "src/redis/redis_leases.ts"() {
    init_transport();
    init_value_format();
    CLAIM_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local held = redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2], 'GET')
if held then return held end
return ARGV[1]
`;
    RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;
    RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
    decoder2 = new TextDecoder();
  }
});

// src/redis/redis_store.ts
var redis_store_exports = {};
__export(redis_store_exports, {
  RedisStore: () => RedisStore,
  openRedisStore: () => openRedisStore
});
function openRedisStore(options) {
  return new RedisStore(openTransport(options), options);
}
var CHUNK_WINDOW, UPLOAD_WINDOW, RedisStore;
var init_redis_store = __esm({
  "src/redis/redis_store.ts"() {
    init_store();
    init_errors();
    init_bytes();
    init_value_format();
    init_connect();
    init_transport();
    init_defaults();
    init_compression();
    init_redis_manifests();
    init_redis_leases();
    CHUNK_WINDOW = 8;
    UPLOAD_WINDOW = 4;
    RedisStore = class {
      #transport;
      /** Whether the transport's values are in buffers of their own, which may be freed. */
      #valuesOwned;
      /** What the lease operations send through: made once, not on every get. */
      #leaseSender = {
        send: (args, lane) => this.#send(args, lane),
        sendTogether: (commands, lane) => this.#transport.sendTogether(commands, lane)
      };
      #namespace;
      #ttl;
      #compress;
      #refreshTtl;
      /**
       * Creates a store over a transport; {@linkcode openRedisStore} opens both.
       *
       * @param transport How commands reach Redis.
       * @param options The key namespace, the TTL and the encoding.
       */
      constructor(transport, options = {}) {
        this.#transport = transport;
        this.#valuesOwned = transport.valuesOwnTheirBuffers === true;
        this.#namespace = keyNamespace(options.prefix ?? "");
        this.#ttl = String(options.ttlMillis ?? DEFAULT_REDIS_TTL_MILLIS);
        this.#compress = options.compress ?? "none";
        this.#refreshTtl = options.refreshTtl ?? true;
      }
      /** Where the server is, for messages: `Redis host:port`, never a credential. */
      get description() {
        return this.#transport.description;
      }
      /** The latest connection error, for messages. */
      get lastError() {
        return this.#transport.lastError;
      }
      /**
       * Resolves once connected, or once connecting has failed.
       *
       * @returns Whether the store can be used.
       */
      ready() {
        return this.#transport.ready();
      }
      /**
       * Fetches an entry, refreshing its TTL: the header key first (one round trip for most
       * entries), then any further chunks, a window at a time.
       *
       * @param actionId The ActionID in hex.
       * @param options Whether the fetch is background work (sent on its own connection), and
       * the largest entry wanted.
       * @returns The entry, or `undefined` when Redis has none.
       * @throws {CorruptEntryError} For a value that is not a valid entry.
       * @throws {EntryTooLargeError} For an entry larger than `maxBytes`; only its first
       * value has been read.
       */
      async get(actionId, options) {
        const background = options?.background ?? false;
        const head = await this.#fetchValue(entryKey(this.#namespace, actionId), background ? "background" : "demand");
        if (head === null) return void 0;
        return await this.#entryOf(actionId, head, options);
      }
      /**
       * Fetches an entry like {@linkcode RedisStore.get} (a get the go command waits on) and,
       * when there is none, takes the action's lease unless another owner holds it, in the
       * same round trip (one script); without a lease to take, reads its holder beside the
       * entry (two `GET`s, which a read-only user may send).
       *
       * @param actionId The ActionID in hex.
       * @param claim Who asks, and the lease's lifetime.
       * @returns The entry, or who holds the lease.
       * @throws {CorruptEntryError} For a value that is not a valid entry.
       */
      async getOrClaim(actionId, claim) {
        const found = await claimOrRead(this.#leaseSender, {
          namespace: this.#namespace,
          actionId,
          ttlMillis: this.#refreshTtl ? this.#ttl : void 0
        }, claim);
        if (found.head === null) return {
          entry: void 0,
          holder: found.holder
        };
        return {
          entry: await this.#entryOf(actionId, found.head)
        };
      }
      /**
       * Extends the leases still held by their owner, in one round trip.
       *
       * @param actionIds The actions.
       * @param owner Their owner.
       * @param leaseMillis Their new lifetime.
       * @returns For each, whether it was still the owner's.
       */
      renewLeases(actionIds, owner, leaseMillis) {
        return renewLeases(this.#leaseSender.send, this.#namespace, {
          actionIds,
          owner,
          leaseMillis
        });
      }
      /**
       * Ends the leases still held by their owner, in one round trip.
       *
       * @param actionIds The actions.
       * @param owner Their owner.
       */
      releaseLeases(actionIds, owner) {
        return releaseLeases(this.#leaseSender.send, this.#namespace, {
          actionIds,
          owner
        });
      }
      /** The entry whose first value is `head`, its other chunks fetched and all checked. */
      async #entryOf(actionId, head, options) {
        const background = options?.background ?? false;
        const header = decodeHeader(head);
        if (header === void 0) throw new CorruptEntryError("its header is not valid");
        if (options?.maxBytes !== void 0 && header.size > options.maxBytes) {
          throw new EntryTooLargeError(header.size, options.maxBytes);
        }
        const stored = await this.#rest(actionId, header, head, background);
        let body = stored;
        if (header.encoding === "zstd") {
          body = await decompressZstd(stored, header.size);
          if (this.#valuesOwned) freeBuffer(stored);
        }
        if (body.length !== header.size) {
          throw new CorruptEntryError(`its body is ${body.length} bytes, not ${header.size}`);
        }
        const entry = {
          outputId: header.outputId,
          size: header.size,
          timeNanos: header.timeNanos,
          body
        };
        if (header.computeMillis !== void 0) entry.computeMillis = header.computeMillis;
        if (this.#valuesOwned && body === stored) entry.release = () => freeBuffer(body);
        return entry;
      }
      /**
       * The whole stored body: the head's part, and the other chunks read, a window at a
       * time, straight into their place in one array of the stored size.
       */
      async #rest(actionId, header, head, background) {
        const first = head.subarray(HEADER_BYTES);
        if (header.chunkCount === 1) {
          if (first.length !== header.storedSize) {
            throw new CorruptEntryError(`it holds ${first.length} bytes, not ${header.storedSize}`);
          }
          return first;
        }
        if (first.length !== header.chunkSize) throw new CorruptEntryError("its first chunk is short");
        const stored = new Uint8Array(header.storedSize);
        stored.set(first);
        if (this.#valuesOwned) freeBuffer(head);
        const lane = background ? "background" : "bulk";
        for (let start = 1; start < header.chunkCount; start += CHUNK_WINDOW) {
          const window = [];
          for (let index = start; index < Math.min(start + CHUNK_WINDOW, header.chunkCount); index++) {
            const into = stored.subarray(index * header.chunkSize, (index + 1) * header.chunkSize);
            const key = chunkKey(this.#namespace, {
              actionId,
              outputId: header.outputId
            }, index);
            window.push(this.#fetchValue(key, lane, into).then((chunk) => {
              if (chunk === null) throw new CorruptEntryError("a chunk is missing");
              if (chunk.length !== into.length) {
                throw new CorruptEntryError("a chunk is not of its size");
              }
              if (chunk !== into) into.set(chunk);
            }));
          }
          await Promise.all(window);
        }
        return stored;
      }
      /** One value, refreshing its TTL unless read-only; `into` receives it if it fits exactly. */
      async #fetchValue(key, lane, into) {
        const args = this.#refreshTtl ? [
          "GETEX",
          key,
          "PX",
          this.#ttl
        ] : [
          "GET",
          key
        ];
        return valueOrNull(await this.#transport.send(args, {
          lane,
          ...into === void 0 ? {} : {
            into
          }
        }), args[0]);
      }
      /**
       * Tells whether Redis holds this output for this action, from its header alone.
       *
       * @param actionId The ActionID in hex.
       * @param outputId The OutputID in hex.
       * @returns Whether uploading it again can be skipped.
       */
      async has(actionId, outputId) {
        const key = entryKey(this.#namespace, actionId);
        const reply = await this.#send([
          "GETRANGE",
          key,
          "0",
          String(HEADER_BYTES - 1)
        ], "upload");
        const head = valueOrNull(reply, "GETRANGE");
        const header = head === null ? void 0 : decodeHeader(head);
        return header !== void 0 && header.outputId === outputId;
      }
      /**
       * Stores an entry: its chunks first and its header last, on one node (the keys share
       * a hash tag), so that a reader that finds the header finds its chunks. The body is read
       * a chunk at a time as it is sent, a few chunks in flight.
       *
       * @param actionId The ActionID in hex.
       * @param entry The entry.
       */
      async put(actionId, entry) {
        let body = entry.body;
        let encoding = "none";
        if (this.#compress === "zstd" && entry.size >= COMPRESS_MIN_BYTES && entry.size <= MAX_COMPRESSED_BODY_BYTES) {
          const compressed = await compressZstd(await body.read(0, entry.size));
          if (compressed !== void 0) {
            body = bytesReader(compressed);
            encoding = "zstd";
          }
        }
        const header = encodeHeader({
          ...entry,
          encoding,
          storedSize: body.size
        });
        const chunkCount = chunkCountOf(body.size);
        const set = (key, value) => this.#send([
          "SET",
          key,
          value,
          "PX",
          this.#ttl
        ], "upload");
        for (let start = 1; start < chunkCount; start += UPLOAD_WINDOW) {
          const window = [];
          for (let index = start; index < Math.min(start + UPLOAD_WINDOW, chunkCount); index++) {
            const key = chunkKey(this.#namespace, {
              actionId,
              outputId: entry.outputId
            }, index);
            window.push(body.read(index * CHUNK_BYTES, CHUNK_BYTES).then((chunk) => set(key, chunk)));
          }
          await Promise.all(window);
        }
        const first = await body.read(0, CHUNK_BYTES);
        await set(entryKey(this.#namespace, actionId), [
          header,
          first
        ]);
      }
      /**
       * Reads build manifests, at most their size limit each, without extending their life.
       *
       * @param names The manifests' names.
       * @returns Each manifest's bytes, or `undefined` where there is none.
       */
      readManifests(names) {
        return readManifests((args, lane) => this.#send(args, lane), this.#namespace, names);
      }
      /**
       * Adds to a build manifest in one script: appends for the same CI job, replaces for
       * another, within the size limit.
       *
       * @param name The manifest's name.
       * @param manifest The job's identity hash, a header for a new manifest, and the records.
       */
      writeManifest(name, manifest) {
        return writeManifest((args, lane) => this.#send(args, lane), {
          namespace: this.#namespace,
          name,
          ttlMillis: this.#ttl
        }, manifest);
      }
      /**
       * Removes an entry's header key (its chunks expire with their TTL).
       *
       * @param actionId The ActionID in hex.
       */
      async delete(actionId) {
        await this.#send([
          "DEL",
          entryKey(this.#namespace, actionId)
        ], "upload");
      }
      /**
       * Checks that Redis answers, with a read (`EXISTS`), which a `+@read` user, a replica
       * and a Cluster node all allow where `PING` may not be.
       */
      async ping() {
        await this.#send([
          "EXISTS",
          entryKey(this.#namespace, "ping")
        ]);
      }
      /** Closes every connection. */
      async close() {
        await this.#transport.close();
      }
      #send(args, lane = "demand") {
        return this.#transport.send(args, {
          lane
        });
      }
    };
  }
});

// src/cli/open_store.ts
var open_store_exports = {};
__export(open_store_exports, {
  manifestOptions: () => manifestOptions,
  openCacheStore: () => openCacheStore,
  openRemoteBackedStore: () => openRemoteBackedStore
});
async function openCacheStore(options) {
  const { remote } = options;
  if (remote === void 0) return await openDiskStore(options, false);
  return await openRemoteBackedStore({
    ...options,
    remote
  }, {
    recordManifest: true,
    servesGoCommand: true
  });
}
async function openRemoteBackedStore(options, use) {
  const { config, remote } = options;
  return new RemoteBackedStore({
    local: await openDiskStore(options, !use.servesGoCommand),
    // What the job's other go commands found of this Redis, in the cache directory.
    health: new HealthFile(options.dir, redisEndpoints(config).join(",")),
    // The Redis code loads after the handshake, and the store connects in the background.
    remote: Promise.resolve().then(() => (init_redis_store(), redis_store_exports)).then(({ openRedisStore: openRedisStore2 }) => openRedisStore2(remote)),
    logger: options.logger,
    ...options.metrics === void 0 ? {} : {
      metrics: options.metrics
    },
    readOnly: config.readOnly,
    timeoutMillis: config.redisTimeoutMillis,
    uploadWaitMillis: config.uploadWaitMillis,
    fleetWaitMillis: config.fleetWaitMillis,
    manifests: manifestOptions(config, use.recordManifest, options.env),
    speculate: config.speculate,
    ...use.servesGoCommand ? {} : {
      unavailableMeans: "nothing is prefetched"
    }
  });
}
function openDiskStore(options, backgroundOnEventLoop) {
  return DiskStore.open(options.dir, {
    keepComputeTimes: options.config.metricsFile !== void 0,
    backgroundOnEventLoop
  });
}
function manifestOptions(config, recordManifest, env = readEnvIfGranted) {
  const scopes = deriveScopes(env, {
    ...config.buildType === void 0 ? {} : {
      buildType: config.buildType
    },
    ...config.manifestScope === void 0 ? {} : {
      own: config.manifestScope
    },
    ...config.manifestBase === void 0 ? {} : {
      base: config.manifestBase
    },
    ...config.manifestDefault === void 0 ? {} : {
      defaultBranch: config.manifestDefault
    }
  });
  const inCi = env("GITLAB_CI") === "true" || env("GITHUB_ACTIONS") === "true";
  const asked = config.manifest || config.manifestScope !== void 0 || config.buildType !== void 0;
  return {
    scopes,
    write: recordManifest && (asked || inCi),
    prefetchMaxBytes: config.prefetchMaxBytes
  };
}
var init_open_store = __esm({
  "src/cli/open_store.ts"() {
    init_disk_store();
    init_remote_backed_store();
    init_manifest();
    init_permissions();
    init_remote_settings();
    init_health_file();
  }
});

// src/cli/metrics_summary.ts
var metrics_summary_exports = {};
__export(metrics_summary_exports, {
  fleetSummary: () => fleetSummary,
  remoteSummary: () => remoteSummary,
  serveSummary: () => serveSummary
});
function serveSummary(r) {
  const n = (name) => r[name] ?? 0;
  const hits = n("remoteHits") > 0 ? `${n("hits")} hits: ${n("localHits")} local, ${n("remoteHits")} remote` : `${n("hits")} hits`;
  return `${n("gets")} gets (${hits}, ${n("misses")} misses, ${n("getErrors")} errors), ${n("puts")} puts (${n("putErrors")} errors); ${formatBytes(n("bytesRead"))} read, ${formatBytes(n("bytesWritten"))} written; time in gets ${formatMillis(n("getMillis"))}, in puts ${formatMillis(n("putMillis"))}, up ${formatMillis(n("elapsedMillis"))}` + (n("compileMillisReplaced") > 0 ? `; the hits replaced ${formatMillis(n("compileMillisReplaced"))} of compiling` : "") + `; peak RSS ${formatBytes(n("peakRssBytes"))} (sampled)`;
}
function remoteSummary(r) {
  const n = (name) => r[name] ?? 0;
  return [
    `remote: ${n("demandFound")} hits, ${n("demandMisses")} misses, ${n("demandErrors")} errors, `,
    `${n("corrupt")} corrupt, ${n("demandSkipped")} not asked; `,
    `${formatBytes(n("bytesDownloaded"))} downloaded, ${formatBytes(n("bytesUploaded"))} uploaded; `,
    `${n("uploads")} uploads, ${n("uploadsSkipped")} already there, ${n("uploadsFailed")} failed, `,
    `${n("uploadsDropped")} dropped; breaker trips ${n("breakerTrips")}; `,
    `stdout companions fetched ${n("companionsFetched")}, used ${n("companionsUsed")}; `,
    `prefetched ${n("prefetched")} of ${n("prefetchPlanned")} (${formatBytes(n("prefetchedBytes"))}), `,
    `used ${n("prefetchUsed")} (${formatBytes(n("prefetchUsedBytes"))}), unused `,
    `${formatBytes(n("prefetchedBytes") - n("prefetchUsedBytes"))}; `,
    `demand round trips ${n("demandRoundTrips")}; `,
    `waited on remote gets ${Math.round(n("demandWaitMillis"))} ms; `,
    fleetSummary(r)
  ].join("");
}
function fleetSummary(r) {
  const n = (name) => r[name] ?? 0;
  return [
    `fleet: ${n("fleetLeasesTaken")} leases taken (${n("fleetLeasesReleased")} released after `,
    `upload, ${n("fleetLeasesReleasedAtClose")} at close, ${n("fleetLeasesLost")} lost), `,
    `${n("fleetWaits")} waits on other runners (${n("fleetWaitHits")} served, `,
    `${n("fleetTakeovers")} taken over, ${n("fleetWaitsGivenUp")} given up) for `,
    `${Math.round(n("fleetWaitMillis"))} ms`
  ].join("");
}
var init_metrics_summary = __esm({
  "src/cli/metrics_summary.ts"() {
    init_format();
  }
});

// src/cli/job_metrics.ts
var job_metrics_exports = {};
__export(job_metrics_exports, {
  appendMetricsLine: () => appendMetricsLine,
  formatJobTotals: () => formatJobTotals,
  sumMetrics: () => sumMetrics
});
function appendMetricsLine(path, record) {
  const line = new TextEncoder().encode(JSON.stringify(record) + "\n");
  const file = Deno.openSync(path, {
    append: true,
    create: true,
    mode: 438
  });
  try {
    if (file.writeSync(line) !== line.length) throw new Error(`Short write to ${path}`);
  } finally {
    file.close();
  }
}
function sumMetrics(text2) {
  const totals = {
    commands: 0,
    badLines: 0,
    sums: {}
  };
  for (const line of text2.split("\n")) {
    if (line.trim() === "") continue;
    let record;
    try {
      record = JSON.parse(line);
    } catch {
      totals.badLines++;
      continue;
    }
    if (typeof record !== "object" || record === null) {
      totals.badLines++;
      continue;
    }
    totals.commands++;
    for (const [key, value] of Object.entries(record)) {
      if (typeof value === "number" && Number.isFinite(value)) {
        totals.sums[key] = (totals.sums[key] ?? 0) + value;
      }
    }
  }
  return totals;
}
function formatJobTotals(totals) {
  const n = (key) => totals.sums[key] ?? 0;
  const rate = n("gets") === 0 ? 0 : 100 * n("hits") / n("gets");
  const lines = [
    `go commands: ${totals.commands}${totals.badLines > 0 ? ` (${totals.badLines} unreadable lines skipped)` : ""}`,
    `gets: ${n("gets")}, hit rate ${rate.toFixed(1)}% (${n("localHits")} local, ${n("remoteHits")} remote), ${n("misses")} misses, ${n("getErrors")} errors`,
    `puts: ${n("puts")} (${n("putErrors")} errors)`,
    `bytes: ${formatBytes(n("bytesRead"))} read, ${formatBytes(n("bytesWritten"))} written, ${formatBytes(n("bytesDownloaded"))} downloaded, ${formatBytes(n("bytesUploaded"))} uploaded`,
    `waiting on Redis: ${formatMillis(n("demandWaitMillis"))}; remote errors ${n("demandErrors")}, corrupt ${n("corrupt")}, breaker trips ${n("breakerTrips")}`,
    `uploads: ${n("uploads")} done, ${n("uploadsSkipped")} already there, ${n("uploadsFailed")} failed, ${n("uploadsDropped")} dropped`,
    `fleet: ${n("fleetLeasesTaken")} actions claimed, ${n("fleetWaits")} waits on other runners (${n("fleetWaitHits")} served by their upload, ${n("fleetTakeovers")} taken over, ${n("fleetWaitsGivenUp")} given up), ${formatMillis(n("fleetWaitMillis"))} waited`,
    `compile time the hits replaced: ${formatMillis(n("compileMillisReplaced"))} of the compiler's own time, summed over actions (they run in parallel, so it is not wall time); the go commands ran ${formatMillis(n("elapsedMillis"))} in all`
  ];
  return lines.join("\n") + "\n";
}
var init_job_metrics = __esm({
  "src/cli/job_metrics.ts"() {
    init_format();
  }
});

// src/cli/usage.ts
var usage_exports = {};
__export(usage_exports, {
  defaultLabel: () => defaultLabel,
  usage: () => usage
});
function usage(version) {
  const lines = [
    `gocacheprog ${version}: a GOCACHEPROG build cache for the go command`,
    "",
    "Usage:",
    '  GOCACHEPROG="gocacheprog [flags]" go build ./...',
    "  gocacheprog COMMAND [flags]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, text2]) => `  ${name.padEnd(8)} ${text2}`),
    "",
    "Flags (one or two dashes; every flag also reads the environment variable shown):"
  ];
  for (const spec of FLAGS) {
    const names = [
      spec.name,
      ...spec.aliases ?? []
    ].map((name) => `--${name}`).join(", ");
    const label = spec.kind === "boolean" && spec.default === void 0 && spec.defaultText === void 0 ? void 0 : defaultLabel(spec);
    lines.push(`  ${names}${spec.valueName === void 0 ? "" : ` ${spec.valueName}`}`, `        ${spec.description}${label === void 0 ? "" : ` (default: ${label})`}` + (spec.env === void 0 ? "" : ` [$${spec.env}]`));
  }
  lines.push("", "With no flags it stores the cache in $GOCACHE, in the go command's own layout.", "");
  return lines.join("\n");
}
function defaultLabel(spec) {
  if (spec.defaultText !== void 0) return spec.defaultText;
  const value = spec.default;
  switch (spec.kind) {
    case "boolean":
      return value === true ? "on" : "off";
    case "duration":
      return typeof value === "number" ? formatDuration(value) : void 0;
    case "size":
      return typeof value === "number" ? formatSize(value) : void 0;
    default:
      return typeof value === "string" && value !== "" ? value : void 0;
  }
}
var init_usage = __esm({
  "src/cli/usage.ts"() {
    init_config();
    init_flags();
    init_units();
  }
});

// src/cli/commands/prefetch.ts
var prefetch_exports = {};
__export(prefetch_exports, {
  runPrefetch: () => runPrefetch
});
async function runPrefetch(context) {
  const started = performance.now();
  if (context.remote === void 0) {
    context.print(context.remoteProblem === void 0 ? "nothing prefetched: no Redis configured" : `nothing prefetched: Redis cannot be used (${context.remoteProblem})`);
    return 0;
  }
  const env = await toolchainEnv(context);
  if (env === void 0) return 0;
  const store = await openRemoteBackedStore({
    config: context.config,
    dir: context.dir,
    remote: context.remote,
    logger: new Logger(),
    env
  }, {
    recordManifest: false,
    servesGoCommand: false
  });
  const outcome = await store.prefetchFinished();
  await store.close();
  const took = formatMillis(performance.now() - started);
  context.print(!outcome.remoteAvailable ? `nothing prefetched: Redis is unavailable (${took})` : outcome.planned === 0 ? `nothing to prefetch (no build manifest for this build type and scope, or all of it is local) in ${took}` : `prefetched ${outcome.fetched} of the ${outcome.planned} manifest entries missing locally (${formatBytes(outcome.fetchedBytes)}) in ${took}`);
  return 0;
}
async function toolchainEnv(context) {
  if (readEnvIfGranted("GOVERSION") !== void 0) return readEnvIfGranted;
  let go;
  try {
    go = await context.goEnv(GO_ENV_VARIABLES);
  } catch (error) {
    context.error(`nothing prefetched: the Go toolchain the build uses is unknown (${messageOf(error).split("\n")[0]}): run the step once Go is set up, granted --allow-run=go (or with GOVERSION, GOOS and GOARCH set)`);
    return void 0;
  }
  return (name) => readEnvIfGranted(name) ?? (go[name] || void 0);
}
var init_prefetch = __esm({
  "src/cli/commands/prefetch.ts"() {
    init_open_store();
    init_log();
    init_format();
    init_permissions();
    init_build_env();
    init_errors();
  }
});

// src/redis/admin.ts
var admin_exports = {};
__export(admin_exports, {
  RedisAdmin: () => RedisAdmin,
  formatRedisMemory: () => formatRedisMemory,
  openRedisAdmin: () => openRedisAdmin
});
function formatRedisMemory(memory) {
  const limit = memory.maxBytes === 0 ? "no limit" : formatBytes(memory.maxBytes);
  return `${formatBytes(memory.usedBytes)} used of ${limit}, policy ${memory.policy}, ${memory.evictedKeys} keys evicted`;
}
async function openRedisAdmin(options) {
  const transport = openTransport(options);
  if (!await transport.ready()) {
    await transport.close();
    const cause = transport.lastError;
    throw new RemoteUnavailableError(`${transport.description} cannot be reached` + (cause === void 0 ? "" : ` (${cause.message})`), {
      cause
    });
  }
  return new RedisAdmin(transport, options.prefix ?? "");
}
function text(reply) {
  return reply instanceof Uint8Array ? decoder3.decode(reply) : String(reply ?? "");
}
function escapeGlob(value) {
  return value.replace(/[*?[\]\\]/g, "\\$&");
}
var decoder3, SCAN_COUNT, RedisAdmin;
var init_admin = __esm({
  "src/redis/admin.ts"() {
    init_errors();
    init_connect();
    init_value_format();
    init_format();
    decoder3 = new TextDecoder();
    SCAN_COUNT = "1000";
    RedisAdmin = class {
      #transport;
      #namespace;
      /**
       * Creates the administration over a connected transport.
       *
       * @param transport How commands reach Redis.
       * @param prefix The key namespace's user part.
       */
      constructor(transport, prefix) {
        this.#transport = transport;
        this.#namespace = keyNamespace(prefix);
      }
      /** Where the server is, for messages. */
      get description() {
        return this.#transport.description;
      }
      /**
       * Measures one round trip.
       *
       * @returns The time a `PING` took, in milliseconds.
       */
      async pingMillis() {
        const started = performance.now();
        await this.#transport.send([
          "PING"
        ]);
        return performance.now() - started;
      }
      /**
       * Reads the memory settings and counters from `INFO` (which a managed Redis allows
       * where `CONFIG` may not), on every server that holds keys, summed.
       *
       * @returns The eviction policy (the first server's), the memory limit (0: none), the
       * memory used, and the keys evicted since the server started.
       */
      async memory() {
        const total = {
          policy: "unknown",
          maxBytes: 0,
          usedBytes: 0,
          evictedKeys: 0
        };
        for (const [index, node] of (await this.#transport.nodes()).entries()) {
          const info = text(await node.send([
            "INFO"
          ]));
          const field = (name) => new RegExp(`^${name}:(\\S+)`, "m").exec(info)?.[1];
          if (index === 0) total.policy = field("maxmemory_policy") ?? "unknown";
          total.maxBytes += Number(field("maxmemory") ?? 0);
          total.usedBytes += Number(field("used_memory") ?? 0);
          total.evictedKeys += Number(field("evicted_keys") ?? 0);
        }
        return total;
      }
      /**
       * Counts the keys under this namespace, and their bytes.
       *
       * @returns The number of keys and the bytes of their values.
       */
      async countKeys() {
        let keys = 0;
        let bytes = 0;
        await this.#scan(async (batch, node) => {
          const lengths = await Promise.all(batch.map((key) => node.send([
            "STRLEN",
            key
          ])));
          for (const length of lengths) {
            if (typeof length === "number") {
              keys++;
              bytes += length;
            }
          }
        });
        return {
          keys,
          bytes
        };
      }
      /**
       * Deletes every key under this namespace, and nothing else, in batches.
       *
       * @returns How many keys were deleted.
       */
      async clear() {
        let deleted = 0;
        await this.#scan(async (batch, node) => {
          const counts = await Promise.all(batch.map((key) => node.send([
            "UNLINK",
            key
          ])));
          for (const count of counts) if (typeof count === "number") deleted += count;
        });
        return deleted;
      }
      /** Closes the connections. */
      async close() {
        await this.#transport.close();
      }
      /** Calls `each` with batches of this namespace's keys, server by server. */
      async #scan(each) {
        const match = `${escapeGlob(this.#namespace)}{*`;
        for (const node of await this.#transport.nodes()) {
          let cursor = "0";
          do {
            const reply = await node.send([
              "SCAN",
              cursor,
              "MATCH",
              match,
              "COUNT",
              SCAN_COUNT
            ]);
            const [next, keys] = Array.isArray(reply) ? reply : [];
            if (!(next instanceof Uint8Array) || !Array.isArray(keys)) {
              throw new TypeError("Redis answered SCAN with something other than a cursor and keys");
            }
            cursor = decoder3.decode(next);
            const names = keys.map(text);
            if (names.length > 0) await each(names, node);
          } while (cursor !== "0");
        }
      }
    };
  }
});

// src/cli/commands/stats.ts
var stats_exports = {};
__export(stats_exports, {
  runStats: () => runStats
});
async function runStats(context) {
  const { config, dir, print } = context;
  const local = measureStore(dir);
  print(`local store ${dir}: ${local.entries} entries, ${local.files} files, ${formatBytes(local.bytes)}`);
  let status = 0;
  if (context.remote !== void 0) {
    const { formatRedisMemory: formatRedisMemory2, openRedisAdmin: openRedisAdmin2 } = await Promise.resolve().then(() => (init_admin(), admin_exports));
    try {
      const admin = await openRedisAdmin2(context.remote);
      try {
        const rtt = await admin.pingMillis();
        const { keys, bytes } = await admin.countKeys();
        print(`${admin.description}: reachable, round trip ${rtt.toFixed(2)} ms`);
        print(`redis keys under the prefix: ${keys}, ${formatBytes(bytes)}`);
        const memory = await admin.memory().catch(() => void 0);
        if (memory !== void 0) print(`redis memory: ${formatRedisMemory2(memory)}`);
      } finally {
        await admin.close();
      }
    } catch (error) {
      context.error(`redis: unreachable (${messageOf(error)})`);
      status = 1;
    }
  } else if (context.remoteProblem !== void 0) {
    context.error(`redis: cannot be used (${context.remoteProblem})`);
    status = 1;
  }
  if (config.metricsFile !== void 0) {
    let text2 = "";
    try {
      text2 = Deno.readTextFileSync(config.metricsFile);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    print(`job metrics from ${config.metricsFile}:`);
    for (const line of formatJobTotals(sumMetrics(text2)).trimEnd().split("\n")) print(`  ${line}`);
  }
  return status;
}
var init_stats = __esm({
  "src/cli/commands/stats.ts"() {
    init_store_files();
    init_job_metrics();
    init_format();
    init_errors();
  }
});

// src/cli/commands/trim.ts
var trim_exports = {};
__export(trim_exports, {
  runTrim: () => runTrim
});
function runTrim(context) {
  const { config, dir, print } = context;
  const started = performance.now();
  const result = trimStore(dir, {
    ageMillis: config.trimAgeMillis,
    force: true,
    ...config.maxSizeBytes === void 0 ? {} : {
      maxSizeBytes: config.maxSizeBytes
    }
  });
  if (!result.ran) {
    print("another process is trimming this store; nothing done");
    return 0;
  }
  print(`trimmed ${dir}: removed ${result.filesRemoved} files (${formatBytes(result.bytesRemoved)}), kept ${formatBytes(result.bytesKept)}, in ${formatMillis(performance.now() - started)}`);
  if (result.bytesKeptInUse > 0) {
    print(`  of what was kept, ${result.filesKeptInUse} files (${formatBytes(result.bytesKeptInUse)}) were used in the last two hours, which trimming never removes` + (config.maxSizeBytes !== void 0 && result.bytesKept > config.maxSizeBytes ? `: the store stays above --max-size ${formatBytes(config.maxSizeBytes)} until they age` : ""));
  }
  return 0;
}
var init_trim2 = __esm({
  "src/cli/commands/trim.ts"() {
    init_trim();
    init_format();
  }
});

// src/cli/commands/clear.ts
var clear_exports = {};
__export(clear_exports, {
  runClear: () => runClear
});
async function runClear(context) {
  const { config, dir, print } = context;
  if (config.clearLocal) {
    let removed = 0;
    forEachStoreFile(dir, (path) => {
      try {
        Deno.removeSync(path);
        removed++;
      } catch {
      }
    });
    for (const file of [
      TRIM_STATE_FILE,
      HEALTH_FILE
    ]) {
      try {
        Deno.removeSync(`${dir}/${file}`);
      } catch {
      }
    }
    print(`cleared ${dir}: removed ${removed} files`);
    return 0;
  }
  if (context.remote === void 0) {
    context.error(context.remoteProblem === void 0 ? "clear --remote needs --redis-url or --redis-sentinel" : `redis: cannot be used (${context.remoteProblem})`);
    return context.remoteProblem === void 0 ? 2 : 1;
  }
  const { openRedisAdmin: openRedisAdmin2 } = await Promise.resolve().then(() => (init_admin(), admin_exports));
  try {
    const admin = await openRedisAdmin2(context.remote);
    try {
      const deleted = await admin.clear();
      print(`cleared ${admin.description}: deleted ${deleted} keys under the prefix, and nothing else`);
      return 0;
    } finally {
      await admin.close();
    }
  } catch (error) {
    context.error(`redis: ${messageOf(error)}`);
    return 1;
  }
}
var init_clear = __esm({
  "src/cli/commands/clear.ts"() {
    init_store_files();
    init_trim();
    init_health_file();
    init_errors();
  }
});

// src/cli/commands/doctor.ts
var doctor_exports = {};
__export(doctor_exports, {
  runDoctor: () => runDoctor
});
async function runDoctor(context) {
  const findings = [
    await checkGo(context),
    checkCacheDir(context.dir, context.dirLinkedFrom),
    ...await checkRedis(context),
    checkPermissions(context)
  ];
  for (const finding of findings) {
    context.print(`${finding.ok ? "ok     " : "PROBLEM"} ${finding.check}: ${finding.detail}`);
    if (finding.fix !== void 0) context.print(`        fix: ${finding.fix}`);
  }
  const problems = findings.filter((finding) => !finding.ok).length;
  context.print(problems === 0 ? "all is well" : `${problems} problem${problems === 1 ? "" : "s"}`);
  return problems === 0 ? 0 : 1;
}
async function checkGo(context) {
  const check = "go command";
  if (!context.query({
    name: "run",
    command: "go"
  })) {
    return {
      check,
      ok: true,
      detail: "not checked (running go is not permitted: add --allow-run=go to check it)"
    };
  }
  try {
    const version = (await context.goEnv([
      "GOVERSION"
    ])).GOVERSION ?? "";
    const minor = Number(/^go1\.(\d+)/.exec(version)?.[1] ?? 0);
    if (minor >= 24) return {
      check,
      ok: true,
      detail: version
    };
    return {
      check,
      ok: false,
      detail: version || "unknown version",
      fix: "install Go 1.24 or newer"
    };
  } catch (error) {
    return {
      check,
      ok: false,
      detail: messageOf(error),
      fix: "install Go 1.24 or newer and put it on PATH"
    };
  }
}
function checkCacheDir(dir, linkedFrom) {
  const check = `cache directory ${dir}`;
  const through = linkedFrom === void 0 ? "" : ` (reached through ${linkedFrom}, a link: grant the real path)`;
  try {
    Deno.mkdirSync(dir, {
      recursive: true
    });
    const probe = `${dir}/.gocacheprog-doctor-${Deno.pid}`;
    Deno.writeTextFileSync(probe, "probe\n");
    Deno.removeSync(probe);
    return {
      check,
      ok: true,
      detail: `exists and is writable${through}`
    };
  } catch (error) {
    return {
      check,
      ok: false,
      detail: `${messageOf(error)}${through}`,
      fix: "create it and make it writable by this user, or point --dir (or GOCACHE) elsewhere"
    };
  }
}
async function checkRedis(context) {
  const remote = context.remote;
  if (context.remoteProblem !== void 0) {
    return [
      {
        check: "redis",
        ok: false,
        detail: `cannot be used: ${context.remoteProblem}`,
        fix: "check the file named, and that this user may read it"
      }
    ];
  }
  if (remote === void 0) {
    return [
      {
        check: "redis",
        ok: true,
        detail: "not configured (local cache only)"
      }
    ];
  }
  const addresses = [
    ...remote.urls,
    ...remote.sentinels ?? []
  ];
  const tls = remote.tls !== void 0 || addresses.some((url) => parseRedisAddress(url).tls);
  const where = redisEndpoints(context.config).join(",");
  const { openRedisAdmin: openRedisAdmin2 } = await Promise.resolve().then(() => (init_admin(), admin_exports));
  let admin;
  try {
    admin = await openRedisAdmin2(remote);
  } catch (error) {
    const cause = error instanceof Error ? error.cause : void 0;
    let fix = `check that Redis runs at ${where} and that this host may connect to it`;
    if (cause instanceof RemoteAuthError) {
      fix = "check GOCACHEPROG_REDIS_PASSWORD (or --redis-password-file) and --redis-user";
    } else if (cause instanceof RemoteTlsError) {
      fix = "check --redis-tls-ca, --redis-tls-cert and --redis-tls-key, and rediss:// in the URL";
    } else if (cause instanceof Deno.errors.NotCapable) {
      fix = `run with --allow-net=${where}`;
    }
    return [
      {
        check: `redis ${where}`,
        ok: false,
        detail: messageOf(error),
        fix
      }
    ];
  }
  try {
    const rtt = await admin.pingMillis();
    return [
      {
        check: admin.description,
        ok: true,
        detail: "reachable"
      },
      {
        check: "redis round trip",
        ok: rtt < 50,
        detail: `${rtt.toFixed(2)} ms`,
        ...rtt < 50 ? {} : {
          fix: "put Redis closer to the runners: every lookup pays this"
        }
      },
      {
        check: "redis TLS",
        ok: true,
        detail: tls ? "in use" : "not in use (plain TCP)"
      },
      await checkMemory(admin)
    ];
  } catch (error) {
    return [
      {
        check: admin.description,
        ok: false,
        detail: messageOf(error)
      }
    ];
  } finally {
    await admin.close();
  }
}
async function checkMemory(admin) {
  const { formatRedisMemory: formatRedisMemory2 } = await Promise.resolve().then(() => (init_admin(), admin_exports));
  const check = "redis memory";
  let memory;
  try {
    memory = await admin.memory();
  } catch (error) {
    return {
      check,
      ok: true,
      detail: `not checked: INFO is not allowed (${messageOf(error)})`
    };
  }
  const used = formatRedisMemory2(memory);
  const fix = "set maxmemory (say, what the team's builds store in a week) and maxmemory-policy allkeys-lru (or volatile-lru): see the README's section on sizing Redis";
  if (memory.policy === "noeviction") {
    return {
      check,
      ok: false,
      detail: `${used}: a full Redis will refuse every upload`,
      fix
    };
  }
  if (memory.maxBytes === 0) {
    return {
      check,
      ok: false,
      detail: `${used}: Redis will grow until the machine runs out`,
      fix
    };
  }
  return {
    check,
    ok: true,
    detail: used
  };
}
function checkPermissions(context) {
  const needs = permissionNeeds(context.config, context.dir, "serve");
  const missing = missingPermissionFlags(needs, context.query);
  if (missing.length === 0) {
    return {
      check: "deno permissions",
      ok: true,
      detail: "everything serving needs is granted"
    };
  }
  return {
    check: "deno permissions",
    ok: false,
    detail: `serving would need ${missing.join(" ")}`,
    fix: "add them to the deno run (or deno install) command in GOCACHEPROG"
  };
}
var init_doctor = __esm({
  "src/cli/commands/doctor.ts"() {
    init_permissions();
    init_remote_settings();
    init_address();
    init_errors();
  }
});

// src/main.ts
init_config();

// src/cli/cache_dir.ts
init_errors();
function cacheDirOf(config, env, cwd) {
  const dir = config.dir ?? defaultCacheDir(env);
  if (dir === void 0) {
    throw new UsageError("No cache directory: pass --dir DIR, or set GOCACHEPROG_DIR or GOCACHE (the go command sets GOCACHE for the programs it starts; with deno run, allow reading it with --allow-env=GOCACHE), or HOME for the go command's default");
  }
  if (dir === "off") {
    throw new UsageError('GOCACHE is "off": the go command then has no build cache, and so nothing to serve');
  }
  const absolute = dir.startsWith("/") ? dir : `${cwd()}/${dir}`;
  return absolute.length > 1 ? absolute.replace(/\/+$/, "") : absolute;
}
function defaultCacheDir(env, os = Deno.build.os) {
  const home = env("HOME");
  if (os === "darwin") return home ? `${home}/Library/Caches/go-build` : void 0;
  const xdg = env("XDG_CACHE_HOME");
  if (xdg !== void 0 && xdg.startsWith("/")) return `${xdg}/go-build`;
  return home ? `${home}/.cache/go-build` : void 0;
}
function realCacheDir(dir) {
  const rest = [];
  let existing = dir;
  for (; ; ) {
    try {
      const real = Deno.realPathSync(existing);
      const resolved = [
        real.replace(/\/+$/, ""),
        ...rest.reverse()
      ].join("/") || "/";
      return resolved === dir ? {
        dir
      } : {
        dir: resolved,
        linkedFrom: dir
      };
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound) || existing === "/") return {
        dir
      };
      const slash = existing.lastIndexOf("/");
      rest.push(existing.slice(slash + 1));
      existing = slash === 0 ? "/" : existing.slice(0, slash);
    }
  }
}

// src/main.ts
init_permissions();
init_remote_settings();
init_log();

// src/cli/stdout.ts
var encoder2 = new TextEncoder();
function writeStdoutOrExit(bytes) {
  let written = 0;
  try {
    while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) Deno.exit(0);
    throw error;
  }
}
function writeStdout(text2) {
  writeStdoutOrExit(encoder2.encode(text2));
}

// src/version.ts
var VERSION = "0.1.0";

// src/main.ts
init_errors();

// src/cli/commands/serve.ts
init_log();

// src/protocol/serve_metrics.ts
var ServeMetrics = class {
  /** `get` requests received: each is answered by exactly one of a hit, a miss or an error. */
  gets = 0;
  /** Gets answered with a hit. */
  hits = 0;
  /** Of the hits, those answered from the local store. */
  localHits = 0;
  /** Of the hits, those a remote tier answered. */
  remoteHits = 0;
  /** Gets answered with a miss. */
  misses = 0;
  /** Gets answered with an error. */
  getErrors = 0;
  /** `put` requests received. */
  puts = 0;
  /** Puts answered with an error. */
  putErrors = 0;
  /** Bytes of the outputs handed out on hits. */
  bytesRead = 0;
  /** Bytes of put bodies received. */
  bytesWritten = 0;
  /** Time from receiving each get to answering it, summed. */
  getMillis = 0;
  /** Time from receiving each put (its body included) to answering it, summed. */
  putMillis = 0;
  /**
   * Compile time the hits replaced: for each hit whose entry says how long it took to
   * produce, that time. Summed over actions that may have run in parallel, so it is
   * CPU-like time, not wall time.
   */
  compileMillisReplaced = 0;
  /**
   * The largest resident set size seen when sampled (after each put body, and every few
   * MiB within one). Sampled, because the kernel's own peak (`getrusage`) also counts
   * the parent process's memory when it spawned this one with vfork, as Go does.
   */
  peakRssBytes = 0;
  /** When serving started, from `performance.now()`. */
  startedAt = performance.now();
  /**
   * The counters, with the time since serving started (`elapsedMillis`) and the peak
   * memory sampled now.
   *
   * @returns The counters.
   */
  counters() {
    this.sampleRss();
    return {
      gets: this.gets,
      hits: this.hits,
      localHits: this.localHits,
      remoteHits: this.remoteHits,
      misses: this.misses,
      getErrors: this.getErrors,
      puts: this.puts,
      putErrors: this.putErrors,
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
      getMillis: Math.round(this.getMillis),
      putMillis: Math.round(this.putMillis),
      compileMillisReplaced: Math.round(this.compileMillisReplaced),
      elapsedMillis: Math.round(performance.now() - this.startedAt),
      peakRssBytes: this.peakRssBytes
    };
  }
  /** Samples the current resident set size into {@linkcode ServeMetrics.peakRssBytes}. */
  sampleRss() {
    const rss = Deno.memoryUsage().rss;
    if (rss > this.peakRssBytes) this.peakRssBytes = rss;
  }
};

// src/protocol/request_reader.ts
init_bytes();
var MAX_REQUEST_LINE_BYTES = 1 << 20;
var BODY_DECODE_BATCH_BYTES = 1 << 20;
var READ_BUFFER_BYTES = 1 << 16;
var NEWLINE = 10;
var QUOTE = 34;
var RequestReader = class {
  #source;
  #mayBlock;
  #buffer = new Uint8Array(READ_BUFFER_BYTES);
  #end = 0;
  #pos = 0;
  #decoder = new TextDecoder();
  /**
   * Creates a reader.
   *
   * @param source The raw bytes, usually `Deno.stdin`.
   * @param mayBlock Whether a blocking read is safe right now; by default never.
   */
  constructor(source, mayBlock = () => false) {
    this.#source = source;
    this.#mayBlock = mayBlock;
  }
  /**
   * Reads the next non-blank line.
   *
   * @returns The line without its newline, or `undefined` at the end of the stream.
   * @throws {SyntaxError} If a line exceeds {@linkcode MAX_REQUEST_LINE_BYTES}.
   */
  async readLine() {
    if (!await this.#skipWhitespace()) return void 0;
    const buffer = this.#buffer;
    const end = buffer.subarray(this.#pos, this.#end).indexOf(NEWLINE);
    if (end >= 0) {
      const line = this.#decoder.decode(buffer.subarray(this.#pos, this.#pos + end));
      this.#pos += end + 1;
      return line;
    }
    const parts = [];
    let length = 0;
    for (; ; ) {
      const available = this.#buffer.subarray(this.#pos, this.#end);
      const newline = available.indexOf(NEWLINE);
      const piece = newline >= 0 ? available.subarray(0, newline) : available;
      parts.push(piece.slice());
      length += piece.length;
      if (length > MAX_REQUEST_LINE_BYTES) {
        throw new SyntaxError(`Request line longer than ${MAX_REQUEST_LINE_BYTES} bytes`);
      }
      if (newline >= 0) {
        this.#pos += newline + 1;
        break;
      }
      this.#pos = this.#end;
      if (!await this.#fill()) break;
    }
    return this.#decoder.decode(concatBytes(parts, length));
  }
  /**
   * Reads one body string (`"<base64>"`) and passes its decoded bytes to `consume`.
   *
   * @param what Names the request in error messages, e.g. `request 7`.
   * @param consume Receives the decoded bytes in order; awaited, so it can apply
   * back-pressure. If it throws, the rest of the body is still read (and dropped) so
   * that the stream stays in step.
   * @returns The decoded size and the consumer's first error, if any.
   * @throws {SyntaxError} If the stream ends inside the body, or the body is not a
   * quoted base64 string: the stream cannot be followed any further.
   */
  async readBody(what, consume) {
    if (!await this.#skipWhitespace() || this.#buffer[this.#pos] !== QUOTE) {
      throw new SyntaxError(`Expected the body string of ${what}`);
    }
    this.#pos++;
    const result = {
      decodedSize: 0
    };
    let pending = [];
    let pendingLength = 0;
    const deliver = async (final) => {
      const text2 = concatBytes(pending, pendingLength);
      const usable = final ? text2.length : text2.length - text2.length % 4;
      const rest = text2.subarray(usable);
      pending = rest.length > 0 ? [
        rest
      ] : [];
      pendingLength = rest.length;
      if (usable === 0) return;
      let bytes;
      try {
        bytes = Uint8Array.fromBase64(this.#decoder.decode(text2.subarray(0, usable)));
      } catch {
        throw new SyntaxError(`The body of ${what} is not valid base64`);
      }
      result.decodedSize += bytes.length;
      if (result.consumerError !== void 0) return;
      try {
        await consume(bytes);
      } catch (error) {
        result.consumerError = error;
      }
    };
    for (; ; ) {
      if (this.#pos >= this.#end && !await this.#fill()) {
        throw new SyntaxError(`The input ended inside the body of ${what}`);
      }
      const available = this.#buffer.subarray(this.#pos, this.#end);
      const quote = available.indexOf(QUOTE);
      const piece = quote >= 0 ? available.subarray(0, quote) : available;
      if (piece.length > 0) {
        pending.push(piece.slice());
        pendingLength += piece.length;
      }
      this.#pos += quote >= 0 ? quote + 1 : available.length;
      if (quote >= 0) {
        await deliver(true);
        return result;
      }
      if (pendingLength >= BODY_DECODE_BATCH_BYTES) await deliver(false);
    }
  }
  /** Moves past whitespace; returns false at the end of the stream. */
  async #skipWhitespace() {
    for (; ; ) {
      const buffer = this.#buffer;
      let pos = this.#pos;
      while (pos < this.#end && isWhitespace(buffer[pos])) pos++;
      this.#pos = pos;
      if (pos < this.#end) return true;
      if (!await this.#fill()) return false;
    }
  }
  /** Refills the exhausted buffer; returns false at the end of the input. */
  async #fill() {
    for (; ; ) {
      const count = this.#source.readSync !== void 0 && this.#mayBlock() ? this.#source.readSync(this.#buffer) : await this.#source.read(this.#buffer);
      this.#pos = 0;
      this.#end = count ?? 0;
      if (count === null) return false;
      if (count > 0) return true;
    }
  }
};
function isWhitespace(byte) {
  return byte === 32 || byte === 10 || byte === 13 || byte === 9;
}

// src/protocol/response_writer.ts
var ResponseWriter = class {
  #sink;
  #pending = [];
  #scheduled = false;
  #busy;
  #encoder = new TextEncoder();
  #failure;
  /**
   * Creates a writer.
   *
   * @param sink Receives batches of complete lines.
   */
  constructor(sink) {
    this.#sink = sink;
  }
  /**
   * Queues one line (with its newline); it is written at the end of the current turn
   * of the event loop, together with any other lines queued by then.
   *
   * @param line A complete response line.
   */
  send(line) {
    this.#pending.push(line);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#drain();
    });
  }
  /** Whether every queued line has been written, and no write is in progress. */
  get idle() {
    return this.#pending.length === 0 && this.#busy === void 0;
  }
  /**
   * Writes the queued lines now, if the sink can take them synchronously.
   *
   * @returns Whether everything queued has been written.
   */
  writeNow() {
    this.#drain();
    return this.idle;
  }
  /**
   * Waits until every queued line has been written.
   *
   * @throws The sink's error, if a write failed.
   */
  async flush() {
    this.#drain();
    while (this.#busy !== void 0) {
      await this.#busy;
      this.#drain();
    }
    if (this.#failure !== void 0) throw this.#failure;
  }
  #drain() {
    while (this.#pending.length > 0 && this.#busy === void 0 && this.#failure === void 0) {
      const text2 = this.#pending.length === 1 ? this.#pending[0] : this.#pending.join("");
      this.#pending = [];
      let result;
      try {
        result = this.#sink(this.#encoder.encode(text2));
      } catch (error) {
        this.#failure = error;
        return;
      }
      if (result instanceof Promise) {
        this.#busy = result.then(() => {
          this.#busy = void 0;
          this.#drain();
        }, (error) => {
          this.#failure ??= error;
          this.#busy = void 0;
        });
      }
    }
  }
};

// src/protocol/wire.ts
init_ids();
init_errors();
var KNOWN_COMMANDS = [
  "get",
  "put",
  "close"
];
function decodeRequest(text2) {
  let value;
  try {
    value = JSON.parse(text2);
  } catch (error) {
    throw new SyntaxError(`Cannot decode request ${quoteExcerpt(text2)}: ${messageOf(error)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SyntaxError(`Cannot decode request ${quoteExcerpt(text2)}: not a JSON object`);
  }
  const fields = value;
  const id = fields.ID;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
    throw new SyntaxError(`Cannot decode request ${quoteExcerpt(text2)}: no valid "ID"`);
  }
  const bodySize = fields.BodySize ?? 0;
  if (typeof bodySize !== "number" || !Number.isSafeInteger(bodySize) || bodySize < 0) {
    throw new SyntaxError(`Cannot decode request ${id}: invalid "BodySize" ${String(bodySize)}`);
  }
  const command = fields.Command;
  const request = {
    id,
    command: typeof command === "string" ? command : "",
    bodySize
  };
  if (command === "close") return request;
  if (command !== "get" && command !== "put") {
    request.invalid = `unknown command ${JSON.stringify(command ?? null)}`;
    return request;
  }
  const actionId = typeof fields.ActionID === "string" ? base64IdToHex(fields.ActionID) : void 0;
  if (actionId === void 0) {
    request.invalid = `invalid ActionID ${JSON.stringify(fields.ActionID ?? null)}`;
    return request;
  }
  request.actionId = actionId;
  if (command === "put") {
    const wireOutputId = fields.OutputID ?? fields.ObjectID;
    const outputId = typeof wireOutputId === "string" ? base64IdToHex(wireOutputId) : void 0;
    if (outputId === void 0) {
      request.invalid = `invalid OutputID ${JSON.stringify(wireOutputId ?? null)}`;
    } else {
      request.outputId = outputId;
    }
  } else if (bodySize !== 0) {
    request.invalid = `a get request cannot carry a body`;
  }
  return request;
}
function encodeResponse(response) {
  let json = `{"ID":${response.id}`;
  if (response.err !== void 0 && response.err !== "") {
    json += `,"Err":${JSON.stringify(response.err)}`;
  }
  if (response.knownCommands !== void 0 && response.knownCommands.length > 0) {
    json += `,"KnownCommands":${JSON.stringify(response.knownCommands)}`;
  }
  if (response.miss === true) json += `,"Miss":true`;
  if (response.outputId !== void 0) json += `,"OutputID":"${hexIdToBase64(response.outputId)}"`;
  if (response.size !== void 0 && response.size !== 0) json += `,"Size":${response.size}`;
  if (response.timeNanos !== void 0) {
    json += `,"Time":"${formatRfc3339Nanos(response.timeNanos)}"`;
  }
  if (response.diskPath !== void 0 && response.diskPath !== "") {
    json += `,"DiskPath":${JSON.stringify(response.diskPath)}`;
  }
  return json + "}\n";
}
var HANDSHAKE_LINE = encodeResponse({
  id: 0,
  knownCommands: KNOWN_COMMANDS
});
var NANOS_PER_SECOND = 1000000000n;
function formatRfc3339Nanos(unixNanos) {
  let seconds = unixNanos / NANOS_PER_SECOND;
  let nanos = unixNanos % NANOS_PER_SECOND;
  if (nanos < 0n) {
    seconds -= 1n;
    nanos += NANOS_PER_SECOND;
  }
  const whole = new Date(Number(seconds) * 1e3).toISOString().slice(0, 19);
  return `${whole}.${nanos.toString().padStart(9, "0")}Z`;
}
function quoteExcerpt(text2) {
  return JSON.stringify(text2.length > 120 ? text2.slice(0, 120) + "..." : text2);
}

// src/protocol/serve.ts
init_errors();
init_log();

// src/protocol/request_log.ts
function describe(request) {
  const action = request.actionId === void 0 ? "" : ` (action ${request.actionId})`;
  return `request ${request.id} ${JSON.stringify(request.command)}${action}`;
}
function requestLine(request) {
  let line = `request ${request.id} ${request.command}`;
  if (request.actionId !== void 0) line += ` action ${request.actionId}`;
  if (request.command === "put") line += ` size ${request.bodySize}`;
  return line;
}
function responseLine(request, response, millis, source) {
  let outcome;
  if (response.err !== void 0) outcome = `error "${response.err}"`;
  else if (response.miss === true) outcome = "miss";
  else if (request.command === "get") outcome = `${source} hit size ${response.size ?? 0}`;
  else if (request.command === "put") outcome = `stored size ${request.bodySize}`;
  else outcome = "ok";
  return `response ${request.id} ${request.command} ${outcome} in ${millis.toFixed(2)} ms`;
}

// src/protocol/serve.ts
init_sha256();
var EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
var RSS_SAMPLE_BYTES = 8 << 20;
var MAX_REMEMBERED_MISSES = 1e5;
var DEFAULT_MAX_IN_FLIGHT = 64;
async function serve(store, options) {
  const writer = new ResponseWriter(options.output);
  writer.send(HANDSHAKE_LINE);
  await writer.flush();
  const session = new Session(typeof store === "function" ? await store() : store, writer, options);
  return await session.run(options.input);
}
var Session = class {
  #store;
  #writer;
  #logger;
  #metrics;
  #maxInFlight;
  #logRequests;
  #logResponses;
  #inFlight = /* @__PURE__ */ new Set();
  /** When each recent miss happened: a put of the same action then took that long to make. */
  #missedAt = /* @__PURE__ */ new Map();
  #slotFreed;
  /** Whether an answer was sent since the store last did its deferred work. */
  #answeredSinceSettled = false;
  constructor(store, writer, options) {
    this.#store = store;
    this.#writer = writer;
    this.#logger = options.logger ?? new Logger();
    this.#metrics = options.metrics ?? new ServeMetrics();
    this.#maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.#logRequests = options.logRequests ?? false;
    this.#logResponses = options.logResponses ?? false;
  }
  async run(input) {
    const reader = new RequestReader(input, () => this.#mayBlock());
    for (; ; ) {
      this.#settle();
      const line = await reader.readLine();
      if (line === void 0) {
        await this.#finish();
        await this.#writer.flush();
        return "eof";
      }
      const request = decodeRequest(line);
      if (this.#logRequests) this.#logger.info(requestLine(request));
      if (request.command === "close") {
        await this.#finish();
        this.#respond(request, performance.now(), {
          id: request.id
        });
        await this.#writer.flush();
        return "close";
      }
      while (this.#inFlight.size >= this.#maxInFlight) {
        await new Promise((resolve) => this.#slotFreed = resolve);
      }
      const started = performance.now();
      if (request.command === "put") {
        await this.#put(request, reader, started);
      } else {
        this.#get(request, started);
      }
    }
  }
  /**
   * Whether blocking on the input is safe: only when nothing else needs the event loop,
   * that is no request in progress, no response waiting to be written, and no work of
   * the store's own. A question, with no side effect: the engine writes and does the
   * store's deferred work itself, before it reads (`#settle`).
   */
  #mayBlock() {
    return this.#inFlight.size === 0 && this.#writer.idle && !(this.#store.background?.busy() ?? false);
  }
  /**
   * Writes the answers that are ready and, when every request is answered and its
   * answer written, lets the store do what it deferred to answer sooner, while the go
   * command works on the answers.
   */
  #settle() {
    if (!this.#answeredSinceSettled || this.#inFlight.size !== 0 || !this.#writer.writeNow()) {
      return;
    }
    this.#answeredSinceSettled = false;
    this.#store.background?.runDeferred();
  }
  /** Waits for the requests in progress, then lets the store finish its own work. */
  async #finish() {
    while (this.#inFlight.size > 0) await Promise.allSettled(this.#inFlight);
    await this.#store.close();
  }
  #track(task) {
    this.#inFlight.add(task);
    task.finally(() => {
      this.#inFlight.delete(task);
      this.#settle();
      const resolve = this.#slotFreed;
      this.#slotFreed = void 0;
      resolve?.();
    });
  }
  #get(request, started) {
    this.#metrics.gets++;
    if (request.invalid !== void 0 || request.actionId === void 0) {
      this.#metrics.getErrors++;
      this.#rejectInvalid(request, started);
      return;
    }
    let result;
    try {
      result = this.#store.get(request.actionId);
    } catch (error) {
      this.#failGet(request, started, error);
      return;
    }
    if (result instanceof Promise) {
      this.#track(result.then((hit) => this.#answerGet(request, started, hit), (error) => this.#failGet(request, started, error)));
    } else {
      this.#answerGet(request, started, result);
    }
  }
  #answerGet(request, started, hit) {
    if (hit === void 0) {
      if (this.#metrics.misses === 0) loadSha256().catch(() => {
      });
      this.#metrics.misses++;
      if (request.actionId !== void 0) {
        if (this.#missedAt.size >= MAX_REMEMBERED_MISSES) this.#missedAt.clear();
        this.#missedAt.set(request.actionId, started);
      }
      this.#respond(request, started, {
        id: request.id,
        miss: true
      });
    } else {
      this.#metrics.compileMillisReplaced += hit.computeMillis ?? 0;
      this.#metrics.hits++;
      if (hit.source === "remote") this.#metrics.remoteHits++;
      else this.#metrics.localHits++;
      this.#metrics.bytesRead += hit.size;
      this.#respond(request, started, {
        id: request.id,
        outputId: hit.outputId,
        size: hit.size,
        timeNanos: hit.timeNanos,
        diskPath: hit.diskPath
      }, hit.source ?? "local");
    }
    this.#metrics.getMillis += performance.now() - started;
  }
  #failGet(request, started, error) {
    this.#metrics.getErrors++;
    this.#fail(request, started, error);
    this.#metrics.getMillis += performance.now() - started;
  }
  /**
   * Reads a put's body into the store and checks it. The commit that follows runs on
   * its own, so the next request can be read meanwhile.
   */
  async #put(request, reader, started) {
    this.#metrics.puts++;
    const { actionId, outputId, bodySize: size } = request;
    let writer;
    let problem = request.invalid;
    if (problem === void 0 && actionId !== void 0 && outputId !== void 0) {
      const missedAt = this.#missedAt.get(actionId);
      this.#missedAt.delete(actionId);
      try {
        writer = this.#store.startPut({
          actionId,
          outputId,
          size,
          ...missedAt === void 0 ? {} : {
            computeMillis: started - missedAt
          }
        });
      } catch (error) {
        problem = `cannot store the body: ${messageOf(error)}`;
      }
    }
    let digest = EMPTY_SHA256;
    if (size > 0) {
      const hash = (await loadSha256())();
      let sinceSample = 0;
      const body = await reader.readBody(`request ${request.id}`, (chunk) => {
        hash.update(chunk);
        sinceSample += chunk.length;
        if (sinceSample >= RSS_SAMPLE_BYTES) {
          sinceSample = 0;
          this.#metrics.sampleRss();
        }
        return writer?.write(chunk);
      });
      if (size >= RSS_SAMPLE_BYTES) this.#metrics.sampleRss();
      digest = hash.digestHex();
      this.#metrics.bytesWritten += body.decodedSize;
      if (body.decodedSize !== size) {
        problem ??= `body is ${body.decodedSize} bytes, but BodySize is ${size}`;
      } else if (body.consumerError !== void 0) {
        problem ??= `cannot store the body: ${messageOf(body.consumerError)}`;
      }
    }
    if (problem === void 0 && digest !== outputId) {
      problem = `body's SHA-256 is ${digest}, but OutputID is ${outputId}`;
    }
    if (writer === void 0 || problem !== void 0) {
      await writer?.abort();
      this.#metrics.putErrors++;
      this.#rejectInvalid({
        ...request,
        invalid: problem ?? "invalid request"
      }, started);
      return;
    }
    let committed;
    try {
      committed = writer.commit();
    } catch (error) {
      this.#track(this.#failPut(request, writer, started, error));
      return;
    }
    if (committed instanceof Promise) {
      this.#track(committed.then((hit) => this.#answerPut(request, started, hit), (error) => this.#failPut(request, writer, started, error)));
    } else {
      this.#answerPut(request, started, committed);
    }
  }
  #answerPut(request, started, hit) {
    this.#respond(request, started, {
      id: request.id,
      diskPath: hit.diskPath
    });
    this.#metrics.putMillis += performance.now() - started;
  }
  async #failPut(request, writer, started, error) {
    this.#metrics.putErrors++;
    await writer.abort().catch(() => {
    });
    this.#fail(request, started, error);
    this.#metrics.putMillis += performance.now() - started;
  }
  /** Answers a malformed request with an error, and says so on stderr. */
  #rejectInvalid(request, started) {
    const message = `${describe(request)}: ${request.invalid}`;
    this.#logger.info(`rejected ${message}`);
    this.#respond(request, started, {
      id: request.id,
      err: message
    });
  }
  /**
   * Answers a request whose store operation failed, with one warning per kind of failure
   * (its command and its error's class, never its message, which names a path).
   */
  #fail(request, started, error) {
    const reason = messageOf(error);
    this.#logger.warnOnce(`${request.command}: ${errorKind(error)}`, `${describe(request)} failed: ${reason} (further failures of this kind are answered as errors without a warning)`);
    this.#respond(request, started, {
      id: request.id,
      err: `${request.command} failed: ${reason}`
    });
  }
  /** Sends a response; `source` names the tier that answered a hit, for the log. */
  #respond(request, started, response, source = "") {
    this.#writer.send(encodeResponse(response));
    this.#answeredSinceSettled = true;
    if (this.#logResponses) {
      this.#logger.info(responseLine(request, response, performance.now() - started, source));
    }
  }
};

// src/cli/commands/serve.ts
init_errors();
init_trim();
var TRIM_BUDGET_MILLIS = 30;
async function runServe(context) {
  const { config, dir } = context;
  const logger = new Logger();
  const serveMetrics = new ServeMetrics();
  let metrics;
  if (config.redisPasswordOnCommandLine) {
    logger.warnOnce("password-flag", "--redis-password is visible in process lists and in `go env`; use GOCACHEPROG_REDIS_PASSWORD or --redis-password-file instead");
  }
  if (Deno.stdin.isTerminal()) {
    logger.info(`this program serves the go command's build cache, and the go command starts it: set GOCACHEPROG="gocacheprog" and run go build (see gocacheprog --help); meanwhile it reads GOCACHEPROG requests here`);
  }
  if (context.remoteProblem !== void 0) {
    logger.warnOnce("remote-settings", `Redis cannot be used: ${context.remoteProblem}; building from the local cache alone`);
  }
  try {
    const openStore = async () => {
      listenForSignals();
      const [{ openCacheStore: openCacheStore2 }, { MetricsRegistry: MetricsRegistry2 }] = await Promise.all([
        Promise.resolve().then(() => (init_open_store(), open_store_exports)),
        Promise.resolve().then(() => (init_metrics(), metrics_exports))
      ]);
      metrics = new MetricsRegistry2();
      metrics.register("serve", serveMetrics);
      return await openCacheStore2({
        config,
        dir,
        remote: context.remote,
        logger,
        metrics
      });
    };
    await serve(openStore, {
      input: Deno.stdin,
      output: writeStdoutOrExit,
      logger,
      metrics: serveMetrics,
      logRequests: config.logRequests,
      logResponses: config.logResponses
    });
  } catch (error) {
    logger.info(`fatal: ${messageOf(error)}`);
    return 1;
  }
  if (metrics !== void 0 && (config.logMetrics || config.metricsFile !== void 0)) {
    const record = metrics.record();
    if (config.logMetrics) {
      const { remoteSummary: remoteSummary2, serveSummary: serveSummary2 } = await Promise.resolve().then(() => (init_metrics_summary(), metrics_summary_exports));
      logger.info(serveSummary2(record));
      if (metrics.has("link")) logger.info(remoteSummary2(record));
    }
    if (config.metricsFile !== void 0) {
      try {
        const { appendMetricsLine: appendMetricsLine2 } = await Promise.resolve().then(() => (init_job_metrics(), job_metrics_exports));
        appendMetricsLine2(config.metricsFile, {
          time: (/* @__PURE__ */ new Date()).toISOString(),
          ...record
        });
      } catch (error) {
        logger.warnOnce("metrics-file", `cannot append to ${config.metricsFile}: ${messageOf(error)}`);
      }
    }
  }
  if (config.trimAgeMillis > 0) {
    try {
      trimStore(dir, {
        ageMillis: config.trimAgeMillis,
        budgetMillis: TRIM_BUDGET_MILLIS,
        ...config.maxSizeBytes === void 0 ? {} : {
          maxSizeBytes: config.maxSizeBytes
        }
      });
    } catch (error) {
      logger.warnOnce("trim", `trimming ${dir} failed: ${messageOf(error)}`);
    }
  }
  return 0;
}
function listenForSignals() {
  Deno.addSignalListener("SIGINT", () => {
  });
  Deno.addSignalListener("SIGXFSZ", () => {
  });
}

// src/main.ts
async function main(args) {
  let context;
  try {
    const config = parseConfig(args, readOwnEnv);
    if (config.help) {
      const { usage: usage2 } = await Promise.resolve().then(() => (init_usage(), usage_exports));
      writeStdout(usage2(VERSION));
      return 0;
    }
    if (config.version) {
      writeStdout(`gocacheprog ${VERSION}
`);
      return 0;
    }
    context = makeContext(config);
  } catch (error) {
    if (error instanceof UsageError) {
      writeStderrLine(`gocacheprog: ${error.message}`);
      return 2;
    }
    writeStderrLine(`gocacheprog: bug: ${messageOf(error)} (please report it)`);
    return 1;
  }
  try {
    return await runCommand(context.config.command, context);
  } catch (error) {
    writeStderrLine(`gocacheprog: ${context.config.command} failed: ${messageOf(error)}`);
    return 1;
  }
}
function makeContext(config) {
  const { dir, linkedFrom } = realCacheDir(cacheDirOf(config, readEnvIfGranted, () => Deno.cwd()));
  if (config.command !== "doctor") {
    const missing = missingPermissionFlags(permissionNeeds(config, dir), queryDenoPermission);
    if (missing.length > 0) {
      throw new UsageError(`missing Deno permissions: run deno with ${missing.join(" ")} (` + (linkedFrom === void 0 ? "" : `the cache directory ${linkedFrom} is a link to ${dir}, and Deno checks the real path; `) + "see the README's install section)");
    }
  }
  const context = {
    config,
    dir,
    ...linkedFrom === void 0 ? {} : {
      dirLinkedFrom: linkedFrom
    },
    print: (line) => writeStdout(line + "\n"),
    error: (line) => writeStderrLine(`gocacheprog: ${line}`),
    query: queryDenoPermission,
    goEnv
  };
  Object.assign(context, remoteSettingsOf(config));
  return context;
}
async function runCommand(command, context) {
  switch (command) {
    case "serve":
      return await runServe(context);
    case "prefetch":
      return await (await Promise.resolve().then(() => (init_prefetch(), prefetch_exports))).runPrefetch(context);
    case "stats":
      return await (await Promise.resolve().then(() => (init_stats(), stats_exports))).runStats(context);
    case "trim":
      return (await Promise.resolve().then(() => (init_trim2(), trim_exports))).runTrim(context);
    case "clear":
      return await (await Promise.resolve().then(() => (init_clear(), clear_exports))).runClear(context);
    case "doctor":
      return await (await Promise.resolve().then(() => (init_doctor(), doctor_exports))).runDoctor(context);
  }
}
async function goEnv(names) {
  const output = await new Deno.Command("go", {
    args: [
      "env",
      "-json",
      ...names
    ],
    env: {
      GOCACHEPROG: ""
    },
    stdout: "piped",
    stderr: "piped"
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr).trim());
  return JSON.parse(new TextDecoder().decode(output.stdout));
}
if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
export {
  main
};
