/** Where the cache directory is: as given, the go command's default, and its real path. */
import assert from "node:assert/strict";
import { cacheDirOf, defaultCacheDir, realCacheDir } from "../../src/cli/cache_dir.ts";
import { parseConfig } from "../../src/cli/config.ts";
import { UsageError } from "../../src/errors.ts";
import { tempDir } from "../support/tools.ts";

const noEnv = () => undefined;
const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("cacheDirOf() makes the directory absolute, and refuses none or off", () => {
  const config = parseConfig([], noEnv);
  assert.equal(cacheDirOf({ ...config, dir: "/a/b/" }, noEnv, () => "/cwd"), "/a/b");
  assert.equal(cacheDirOf({ ...config, dir: "rel" }, noEnv, () => "/cwd"), "/cwd/rel");
  assert.throws(
    () => cacheDirOf(config, noEnv, () => "/"),
    (error: Error) => error instanceof UsageError && /--dir DIR/.test(error.message),
  );
  assert.throws(() => cacheDirOf({ ...config, dir: "off" }, noEnv, () => "/"), /"off"/);
});

Deno.test("cacheDirOf() without GOCACHE is the go command's default, as os.UserCacheDir finds it", () => {
  const config = parseConfig([], noEnv);
  assert.equal(
    cacheDirOf(config, envOf({ HOME: "/home/ci" }), () => "/"),
    "/home/ci/.cache/go-build",
  );
  assert.equal(
    cacheDirOf(config, envOf({ HOME: "/home/ci", XDG_CACHE_HOME: "/cache" }), () => "/"),
    "/cache/go-build",
  );
  assert.equal(
    defaultCacheDir(envOf({ HOME: "/h", XDG_CACHE_HOME: "relative" }), "linux"),
    "/h/.cache/go-build",
    "a relative XDG_CACHE_HOME is ignored",
  );
  assert.equal(
    defaultCacheDir(envOf({ HOME: "/Users/me" }), "darwin"),
    "/Users/me/Library/Caches/go-build",
  );
  assert.equal(defaultCacheDir(noEnv, "linux"), undefined);
});

Deno.test("realCacheDir() resolves a linked directory, a linked parent, and a directory not made yet", async () => {
  await using work = await tempDir();
  const real = Deno.realPathSync(work.path);
  await Deno.mkdir(`${real}/volume/cache`, { recursive: true });
  await Deno.symlink(`${real}/volume/cache`, `${real}/linked-cache`);
  await Deno.symlink(`${real}/volume`, `${real}/linked-parent`);
  assert.deepEqual(realCacheDir(`${real}/volume/cache`), { dir: `${real}/volume/cache` });
  assert.deepEqual(realCacheDir(`${real}/linked-cache`), {
    dir: `${real}/volume/cache`,
    linkedFrom: `${real}/linked-cache`,
  });
  assert.deepEqual(realCacheDir(`${real}/linked-parent/cache`), {
    dir: `${real}/volume/cache`,
    linkedFrom: `${real}/linked-parent/cache`,
  });
  assert.deepEqual(realCacheDir(`${real}/linked-parent/new/go-build`), {
    dir: `${real}/volume/new/go-build`,
    linkedFrom: `${real}/linked-parent/new/go-build`,
  });
});
