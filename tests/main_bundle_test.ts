/**
 * `src/main.bundle.js`, the CLI in one file, which the README's recipes run: it is exactly
 * what `deno task bundle` makes of the sources as they stand, and it serves the go command
 * as `src/main.ts` does.
 */
import assert from "node:assert/strict";
import { actionIdFor, FakeGoClient, sha256Base64 } from "./support/fake_go_client.ts";
import { BUNDLE_ENTRY, bundleSources, programArgv } from "./support/program.ts";
import { tempDir } from "./support/tools.ts";

Deno.test("src/main.bundle.js is src/main.ts bundled as the sources stand now", async () => {
  await using dir = await tempDir();
  const fresh = `${dir.path}/main.bundle.js`;
  await bundleSources(fresh);
  const committed = await Deno.readTextFile(BUNDLE_ENTRY);
  assert.ok(
    (await Deno.readTextFile(fresh)) === committed,
    "src/main.bundle.js is stale: run `deno task bundle` and commit it",
  );
});

Deno.test("src/main.bundle.js serves a session, and loads what it needs after the handshake", async () => {
  await using dir = await tempDir();
  await using client = await FakeGoClient.start(
    programArgv({ dir: dir.path, entry: BUNDLE_ENTRY, args: ["--log-metrics"] }),
  );
  assert.deepEqual(client.responses[0], { ID: 0, KnownCommands: ["get", "put", "close"] });
  const action = await actionIdFor("bundled");
  assert.deepEqual(await client.request({ ID: 1, Command: "get", ActionID: action }), {
    ID: 1,
    Miss: true,
  });
  const body = new TextEncoder().encode("hello");
  const put = await client.request(
    { ID: 2, Command: "put", ActionID: action, OutputID: await sha256Base64(body), BodySize: 5 },
    body,
  );
  assert.ok(put.DiskPath?.startsWith(dir.path), JSON.stringify(put));
  const hit = await client.request({ ID: 3, Command: "get", ActionID: action });
  assert.equal(hit.DiskPath, put.DiskPath);
  assert.deepEqual(await client.request({ ID: 4, Command: "close" }), { ID: 4 });
  const { code, stderr } = await client.finish();
  assert.equal(code, 0, stderr);
  // The summary is loaded at the end, from inside the bundle.
  assert.match(stderr, /gocacheprog: 2 gets \(1 hits/);
});
