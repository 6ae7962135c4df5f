/**
 * Build manifests: the ActionIDs a build used, in the order it first used them, so that
 * the next build of the same kind can fetch them before the go command asks. Pure: the
 * codec, the recorder, where manifests live (scopes from the CI environment), and which
 * entries to prefetch from the manifests found.
 *
 * A manifest is one Redis string: a 32-byte header, then 36-byte records.
 *
 * | offset | size | field                                                  |
 * | ------ | ---- | ------------------------------------------------------ |
 * | 0      | 4    | magic `GCPM`                                           |
 * | 4      | 1    | version, 1                                             |
 * | 5      | 3    | reserved, 0                                            |
 * | 8      | 16   | the first 16 bytes of SHA-256 of the CI job's identity |
 * | 24     | 8    | creation time, Unix milliseconds, little-endian        |
 *
 * Each record is an ActionID (32 bytes) and the entry's size (4 bytes, little-endian,
 * saturated). Records hold ActionIDs, not key names, so a manifest can never name a key
 * outside its namespace. The go commands of one CI job append to the manifest; the
 * first go command of a new job replaces it.
 *
 * @module
 */

/** Bytes before the first record. */
export const MANIFEST_HEADER_BYTES = 32;

/** Bytes per record. */
export const MANIFEST_RECORD_BYTES = 36;

/** The size field's limit: larger entries are recorded as this, which means "at least". */
export const MANIFEST_SIZE_LIMIT = 0xffffffff;

/** The most records a manifest holds; readers ignore the rest (about 7 MB). */
export const MAX_MANIFEST_RECORDS = 200_000;

const MAGIC = [0x47, 0x43, 0x50, 0x4d]; // "GCPM"
const VERSION = 1;

/** One action a build used. */
export interface ManifestRecord {
  /** The ActionID in hex. */
  actionId: string;
  /** The entry's size in bytes (saturated at 2^32 - 1). */
  size: number;
}

/** A decoded manifest. */
export interface Manifest {
  /** The job-identity hash (hex) of the job that wrote the header. */
  jobHash: string;
  /** When the header was written, in Unix milliseconds. */
  createdMillis: number;
  /** The records, in first-use order; an action may repeat (appends of several go commands). */
  records: ManifestRecord[];
}

/**
 * Encodes a manifest header.
 *
 * @param jobHash 32 hex digits identifying the CI job.
 * @param createdMillis The creation time.
 * @returns The 32-byte header.
 */
export function encodeManifestHeader(jobHash: string, createdMillis: number): Uint8Array {
  const header = new Uint8Array(MANIFEST_HEADER_BYTES);
  header.set(MAGIC, 0);
  header[4] = VERSION;
  header.set(Uint8Array.fromHex(jobHash.slice(0, 32).padEnd(32, "0")), 8);
  new DataView(header.buffer).setBigUint64(
    24,
    BigInt(Math.max(0, Math.floor(createdMillis))),
    true,
  );
  return header;
}

/**
 * Encodes records.
 *
 * @param records The actions, in order.
 * @returns The bytes to append after a header.
 */
export function encodeManifestRecords(records: readonly ManifestRecord[]): Uint8Array {
  const bytes = new Uint8Array(records.length * MANIFEST_RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  records.forEach((record, i) => {
    const offset = i * MANIFEST_RECORD_BYTES;
    bytes.set(Uint8Array.fromHex(record.actionId), offset);
    view.setUint32(offset + 32, Math.min(record.size, MANIFEST_SIZE_LIMIT), true);
  });
  return bytes;
}

/**
 * Decodes a manifest. A value that is not one (wrong magic or version, a length that is
 * not whole records) is refused, so a damaged manifest is ignored rather than followed.
 *
 * @param value The stored bytes.
 * @returns The manifest, or `undefined`.
 */
export function decodeManifest(value: Uint8Array): Manifest | undefined {
  if (value.length < MANIFEST_HEADER_BYTES) return undefined;
  if (MAGIC.some((byte, i) => value[i] !== byte) || value[4] !== VERSION) return undefined;
  if ((value.length - MANIFEST_HEADER_BYTES) % MANIFEST_RECORD_BYTES !== 0) return undefined;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const count = Math.min(
    (value.length - MANIFEST_HEADER_BYTES) / MANIFEST_RECORD_BYTES,
    MAX_MANIFEST_RECORDS,
  );
  const records: ManifestRecord[] = [];
  for (let i = 0; i < count; i++) {
    const offset = MANIFEST_HEADER_BYTES + i * MANIFEST_RECORD_BYTES;
    records.push({
      actionId: value.subarray(offset, offset + 32).toHex(),
      size: view.getUint32(offset + 32, true),
    });
  }
  return {
    jobHash: value.subarray(8, 24).toHex(),
    createdMillis: Number(view.getBigUint64(24, true)),
    records,
  };
}

/**
 * Records, in first-use order, the actions a go command hit or put: the gets that
 * missed and were never put (a failed compile) are left out, and so are entries larger
 * than `maxEntryBytes` (left to the demand path).
 */
export class ManifestRecorder {
  #seen = new Set<string>();
  #records: ManifestRecord[] = [];
  #maxEntryBytes: number;

  /**
   * Creates an empty recorder.
   *
   * @param maxEntryBytes Larger entries are not recorded.
   */
  constructor(maxEntryBytes = 64 << 20) {
    this.#maxEntryBytes = maxEntryBytes;
  }

  /**
   * Notes a hit or a put.
   *
   * @param actionId The ActionID in hex.
   * @param size The entry's size.
   */
  note(actionId: string, size: number): void {
    if (size > this.#maxEntryBytes || this.#seen.has(actionId)) return;
    if (this.#records.length >= MAX_MANIFEST_RECORDS) return;
    this.#seen.add(actionId);
    this.#records.push({ actionId, size });
  }

  /** The records noted so far, in first-use order. */
  get records(): readonly ManifestRecord[] {
    return this.#records;
  }
}

/** Where manifests are read and written. */
export interface ManifestScopes {
  /** What kind of build (the CI job's name); manifests of other kinds are never mixed in. */
  buildType: string;
  /** This build's own scope: `mr:<iid>`, `pr:<n>` or `ref:<branch>`. */
  own?: string;
  /** The scope of the branch a merge or pull request targets. */
  base?: string;
  /** The default branch's scope. */
  default?: string;
  /** Whether this build may write the default scope (it runs on the default branch). */
  writesDefault: boolean;
  /** Identifies the CI job, so that its go commands append to one manifest. */
  jobId?: string;
}

/**
 * The CI variables that {@linkcode deriveScopes} reads, and nothing else: they are what
 * Redis mode needs to be allowed to read besides its own (`--allow-env` lists them), so
 * that no other variable of a CI job (a job token, a registry password) is readable.
 */
export const CI_ENV_VARIABLES: readonly string[] = [
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
  "GITHUB_RUN_ATTEMPT",
];

/**
 * Derives the scopes from the CI environment (GitLab CI or GitHub Actions), with
 * explicit values winning.
 *
 * @param env Reads environment variables.
 * @param explicit Values from flags: build type, own scope, base and default branch.
 * @returns The scopes; `own` is absent outside CI unless given.
 */
export function deriveScopes(
  env: (name: string) => string | undefined,
  explicit: { buildType?: string; own?: string; base?: string; defaultBranch?: string } = {},
): ManifestScopes {
  const gitlab = env("GITLAB_CI") === "true";
  const github = env("GITHUB_ACTIONS") === "true";
  let buildType = explicit.buildType;
  let own = explicit.own;
  let baseBranch = explicit.base;
  let defaultBranch = explicit.defaultBranch;
  let jobId: string | undefined;
  let branch: string | undefined;
  if (gitlab) {
    buildType ??= env("CI_JOB_NAME");
    const mr = env("CI_MERGE_REQUEST_IID");
    branch = env("CI_COMMIT_REF_NAME");
    own ??= mr ? `mr:${mr}` : branch ? `ref:${branch}` : undefined;
    baseBranch ??= env("CI_MERGE_REQUEST_TARGET_BRANCH_NAME");
    defaultBranch ??= env("CI_DEFAULT_BRANCH");
    jobId = env("CI_JOB_ID");
  } else if (github) {
    const workflow = env("GITHUB_WORKFLOW");
    const job = env("GITHUB_JOB");
    buildType ??= [workflow, job].filter((part) => part).join("/") || undefined;
    const ref = env("GITHUB_REF") ?? "";
    const pr = /^refs\/pull\/(\d+)\//.exec(ref)?.[1];
    branch = env("GITHUB_REF_NAME");
    own ??= pr ? `pr:${pr}` : branch ? `ref:${branch}` : undefined;
    baseBranch ??= env("GITHUB_BASE_REF") || undefined;
    const run = [env("GITHUB_RUN_ID"), env("GITHUB_RUN_ATTEMPT"), job].filter((part) => part);
    jobId = run.length > 0 ? run.join("-") : undefined;
  }
  defaultBranch ??= "main";
  const scopes: ManifestScopes = {
    buildType: buildType ?? "default",
    default: `ref:${defaultBranch}`,
    writesDefault: own === `ref:${defaultBranch}`,
  };
  if (own !== undefined) scopes.own = own;
  // A base that is this build's own scope or the default branch would only be read twice.
  if (baseBranch !== undefined && baseBranch !== defaultBranch && `ref:${baseBranch}` !== own) {
    scopes.base = `ref:${baseBranch}`;
  }
  if (jobId !== undefined) scopes.jobId = jobId;
  return scopes;
}

/**
 * Chooses what to prefetch from the manifests found: the own and base manifests'
 * union (own first, each action at its first position), topped up with the default
 * branch's when they are missing or implausibly small (under a quarter of it); then
 * without what is already local, within a byte budget.
 *
 * @param found The manifests found: own, base and default, each possibly absent.
 * @param options What is already local, and the budget.
 * @returns The records to prefetch, in order.
 */
export function selectPrefetch(
  found: { own?: Manifest; base?: Manifest; default?: Manifest },
  options: { isLocal: (actionId: string) => boolean; maxBytes: number },
): ManifestRecord[] {
  const primary = [found.own, found.base].filter((manifest): manifest is Manifest =>
    manifest !== undefined
  );
  const primaryCount =
    new Set(primary.flatMap((manifest) => manifest.records.map((record) => record.actionId))).size;
  const sources = [...primary];
  if (
    found.default !== undefined &&
    (primary.length === 0 || primaryCount < found.default.records.length / 4)
  ) {
    sources.push(found.default);
  }
  const seen = new Set<string>();
  const selected: ManifestRecord[] = [];
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
