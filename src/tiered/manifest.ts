/**
 * Build manifests in use: the recorder of what a go command used, where manifests live
 * (scopes from the CI environment), and which entries to prefetch from the manifests
 * found. Pure. The format itself is in `manifest_format.ts`.
 *
 * @module
 */

import { type Manifest, type ManifestRecord, MAX_MANIFEST_RECORDS } from "../manifest_format.ts";
import { toolchainOf } from "./build_env.ts";

/** Entries larger than this are left out of manifests (left to the demand path). */
export const MAX_MANIFEST_ENTRY_BYTES = 64 << 20;

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
  constructor(maxEntryBytes = MAX_MANIFEST_ENTRY_BYTES) {
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
  /**
   * The toolchain and target the go command builds with (its version, OS, architecture
   * and their settings), from the environment it gives this program: builds of one job
   * on other Go versions or targets (a matrix) have manifests of their own.
   */
  toolchain: string;
}

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
    toolchain: toolchainOf(env),
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
