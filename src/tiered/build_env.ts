/**
 * The environment variables that name a build's manifests: the CI job's, and the go
 * command's toolchain and target. In a module of their own, because the command line
 * grants them (`--allow-env`) before the handshake, and must not load the manifest code
 * to do so.
 *
 * @module
 */

/**
 * The CI variables that `deriveScopes` (in `manifest.ts`) reads, and nothing else: they are what
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
 * The go command's variables that name the toolchain and the target: the go command
 * sets them in the environment of the program it starts (from `go env`).
 */
export const GO_ENV_VARIABLES: readonly string[] = [
  "GOVERSION",
  "GOOS",
  "GOARCH",
  "GOAMD64",
  "GOARM",
  "GOARM64",
  "GO386",
  "GOEXPERIMENT",
  "CGO_ENABLED",
];

/**
 * The toolchain and target, as the go command's environment names them.
 *
 * @param env Reads environment variables.
 * @returns Each set variable as `NAME=value`, in a fixed order, one per line.
 */
export function toolchainOf(env: (name: string) => string | undefined): string {
  return GO_ENV_VARIABLES.map((name) => [name, env(name)] as const)
    .filter(([, value]) => value !== undefined && value !== "")
    .map(([name, value]) => `${name}=${value}`).join("\n");
}
