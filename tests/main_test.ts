/**
 * The program as the go command runs it: a separate process, driven over real pipes by
 * a fake go client, with the protocol document's test vectors.
 */
import assert from "node:assert/strict";
import { actionIdFor, FakeGoClient, sha256Base64 } from "./support/fake_go_client.ts";
import { CLI_ENTRY, MOD_TS, programArgv, runGocacheprog } from "./support/program.ts";
import { REPO_ROOT, requireTool, tempDir } from "./support/tools.ts";
import { randomBytes } from "./support/stores.ts";

const A1 = "oFqyzTFO7RKrD83sqkbcEhxpNwvI031yvmypiUZPdsQ=";
const A2 = "jlnO4wpl4Sj6No4nfqv24C+UwENq0iMDOzWrPNRwyDE=";
const O_HELLO = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";
const O_EMPTY = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

Deno.test("gocacheprog serves the protocol document's happy session over pipes (V1)", async () => {
  await using dir = await tempDir();
  await using client = await FakeGoClient.start(programArgv({ dir: dir.path }));
  assert.deepEqual(client.responses[0], { ID: 0, KnownCommands: ["get", "put", "close"] });
  assert.deepEqual(await client.request({ ID: 1, Command: "get", ActionID: A1 }), {
    ID: 1,
    Miss: true,
  });
  const hello = `${dir.path}/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824-d`;
  assert.deepEqual(
    await client.request(
      { ID: 2, Command: "put", ActionID: A1, OutputID: O_HELLO, BodySize: 5 },
      new TextEncoder().encode("hello"),
    ),
    { ID: 2, DiskPath: hello },
  );
  const empty = await client.request({ ID: 3, Command: "put", ActionID: A2, OutputID: O_EMPTY });
  assert.equal((await Deno.stat(empty.DiskPath!)).size, 0);
  const hit = await client.request({ ID: 4, Command: "get", ActionID: A1 });
  assert.equal(hit.OutputID, O_HELLO);
  assert.equal(hit.Size, 5);
  assert.equal(hit.DiskPath, hello);
  assert.ok(Date.now() - Date.parse(hit.Time!) < 60_000, hit.Time);
  assert.deepEqual(await client.request({ ID: 6, Command: "close" }), { ID: 6 });
  const { code } = await client.finish();
  assert.equal(code, 0);
  assert.deepEqual(client.invalidLines, []);
});

Deno.test("gocacheprog accepts Go 1.21-1.23's ObjectID (V2) and the padding vectors (V4)", async () => {
  await using dir = await tempDir();
  await using client = await FakeGoClient.start(programArgv({ dir: dir.path }));
  const old = await client.request(
    { ID: 2, Command: "put", ActionID: A1, ObjectID: O_HELLO, BodySize: 5 },
    new TextEncoder().encode("hello"),
  );
  assert.equal(await Deno.readTextFile(old.DiskPath!), "hello");
  const bodies = ["a", "ab", "abc"].map((text) => new TextEncoder().encode(text));
  bodies.push(new Uint8Array(256).map((_, i) => i));
  let id = 10;
  for (const body of bodies) {
    const response = await client.request({
      ID: ++id,
      Command: "put",
      ActionID: await actionIdFor(`v4 ${id}`),
      OutputID: await sha256Base64(body),
      BodySize: body.length,
    }, body);
    assert.deepEqual(await Deno.readFile(response.DiskPath!), body);
  }
});

Deno.test("gocacheprog finishes and exits 0 at end of input without close (V9)", async () => {
  await using dir = await tempDir();
  const client = await FakeGoClient.start(programArgv({ dir: dir.path }));
  await client.send(
    { ID: 1, Command: "put", ActionID: A1, OutputID: O_HELLO, BodySize: 5 },
    new TextEncoder().encode("hello"),
  );
  const { code, stderr } = await client.finish();
  assert.equal(code, 0, stderr);
  assert.equal(client.responses[1]?.ID, 1);
  assert.equal(
    await Deno.readTextFile(
      `${dir.path}/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824-d`,
    ),
    "hello",
  );
});

Deno.test("gocacheprog ends with a message and a non-zero status on an undecodable stream", async () => {
  await using dir = await tempDir();
  const client = await FakeGoClient.start(programArgv({ dir: dir.path }));
  await client.writeRaw("hello\n");
  const { code, stderr } = await client.finish();
  assert.equal(code, 1);
  assert.match(stderr, /gocacheprog: fatal: Cannot decode request "hello"/);
  assert.deepEqual(client.invalidLines, [], "nothing but JSON on stdout");
  assert.equal(client.responses.length, 1, "only the handshake");
});

Deno.test("gocacheprog answers a malformed request with an error on stdout and a message on stderr", async () => {
  await using dir = await tempDir();
  const client = await FakeGoClient.start(programArgv({ dir: dir.path }));
  const answer = await client.request({ ID: 5, Command: "get", ActionID: "not base64!" });
  assert.match(answer.Err ?? "", /request 5 "get".*invalid ActionID/);
  await client.send({ ID: 6, Command: "close" });
  const { code, stderr } = await client.finish();
  assert.equal(code, 0);
  assert.match(stderr, /request 5/);
  assert.deepEqual(client.invalidLines, []);
});

Deno.test("gocacheprog takes a 64 MiB put through the pipe within 150 MB of memory", async () => {
  await using dir = await tempDir();
  const body = new Uint8Array(64 << 20);
  for (let offset = 0; offset < body.length; offset += 65536) {
    crypto.getRandomValues(body.subarray(offset, offset + 65536));
  }
  const outputId = await sha256Base64(body);
  const client = await FakeGoClient.start(programArgv({ dir: dir.path, args: ["--log-metrics"] }));
  const answer = await client.request(
    { ID: 1, Command: "put", ActionID: A1, OutputID: outputId, BodySize: body.length },
    body,
  );
  assert.equal(await sha256Base64(await Deno.readFile(answer.DiskPath!)), outputId);
  await client.send({ ID: 2, Command: "close" });
  const { stderr } = await client.finish();
  const peak = /peak RSS ([\d.]+) MiB/.exec(stderr);
  assert.ok(peak !== null, stderr);
  assert.ok(Number(peak[1]) * 1.048576 <= 150, `peak RSS ${peak[1]} MiB`);
});

Deno.test("gocacheprog ends quietly when the go command stops reading its output", async () => {
  await using dir = await tempDir();
  const argv = programArgv({ dir: dir.path });
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  await child.stdout.cancel(); // the reading end goes away
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(`{"ID":1,"Command":"get","ActionID":"${A1}"}\n\n`))
    .catch(() => {});
  await writer.close().catch(() => {});
  const status = await child.status;
  const stderr = await new Response(child.stderr).text();
  assert.equal(status.code, 0);
  assert.equal(stderr, "");
});

Deno.test("gocacheprog --help lists the flags, --version prints the version", async () => {
  const help = await runGocacheprog(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--dir DIR/);
  assert.match(help.stdout, /GOCACHEPROG_DIR/);
  const manifest = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}/deno.json`));
  const version = await runGocacheprog(["-version"]);
  assert.equal(version.stdout, `gocacheprog ${manifest.version}\n`);
});

Deno.test("mod.ts run as the main module is the same program as src/main.ts", async () => {
  await using dir = await tempDir();
  const argv = programArgv({ dir: dir.path }).map((arg) => arg === CLI_ENTRY ? MOD_TS : arg);
  assert.ok(argv.includes(MOD_TS));
  await using client = await FakeGoClient.start(argv);
  assert.deepEqual(client.responses[0], { ID: 0, KnownCommands: ["get", "put", "close"] });
  assert.deepEqual(await client.request({ ID: 1, Command: "get", ActionID: A1 }), {
    ID: 1,
    Miss: true,
  });
});

Deno.test("gocacheprog rejects an unknown flag, and no cache directory, with exit status 2", async () => {
  const unknown = await runGocacheprog(["--bogus"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown flag "--bogus"/);
  assert.equal(unknown.stdout, "", "no handshake for a usage error");
  const noDir = await runGocacheprog([], { GOCACHE: "", HOME: "", XDG_CACHE_HOME: "" });
  assert.equal(noDir.code, 2);
  assert.match(noDir.stderr, /No cache directory/);
});

Deno.test("gocacheprog past a file-size limit (ulimit -f): the puts fail, and leave no file behind", async () => {
  await using dir = await tempDir();
  // bash's ulimit -f counts 1 KiB blocks: files of at most 512 KiB, here. A body up to
  // 1 MiB is written in one call to a file created in place; a larger one is streamed to a
  // temporary file: both must be removed when the write fails.
  const argv = [
    "bash",
    "-c",
    'ulimit -f 512 && exec "$@"',
    "bash",
    ...programArgv({ dir: dir.path }),
  ];
  await using client = await FakeGoClient.start(argv);
  let id = 0;
  for (const size of [768 << 10, 3 << 20]) {
    const big = randomBytes(size);
    const failed = await client.request({
      ID: ++id,
      Command: "put",
      ActionID: await actionIdFor(`too big ${size}`),
      OutputID: await sha256Base64(big),
      BodySize: big.length,
    }, big);
    assert.match(failed.Err ?? "", /File too large/, `${size} bytes: ${JSON.stringify(failed)}`);
  }
  const small = new TextEncoder().encode("fits");
  const smallAction = await actionIdFor("small");
  const stored = await client.request({
    ID: ++id,
    Command: "put",
    ActionID: smallAction,
    OutputID: await sha256Base64(small),
    BodySize: small.length,
  }, small);
  assert.ok(stored.DiskPath, "the program goes on");
  await client.send({ ID: ++id, Command: "close" });
  const { code } = await client.finish();
  assert.equal(code, 0);
  const files: string[] = [];
  for await (const shard of Deno.readDir(dir.path)) {
    if (!shard.isDirectory) continue;
    for await (const file of Deno.readDir(`${dir.path}/${shard.name}`)) files.push(file.name);
  }
  const smallActionHex = Uint8Array.fromBase64(smallAction).toHex();
  assert.deepEqual(
    files.sort(),
    [`${smallActionHex}-a`, stored.DiskPath!.slice(stored.DiskPath!.lastIndexOf("/") + 1)].sort(),
    "only the small put's output and entry",
  );
});

Deno.test("gocacheprog run by a person at a terminal says that the go command starts it, then serves as for a pipe", async () => {
  await using dir = await tempDir();
  // script(1) gives the program a terminal for its stdin, and types the close request.
  const argv = programArgv({ dir: dir.path });
  const child = new Deno.Command(requireTool("script"), {
    args: ["-q", "-e", "-c", argv.map((arg) => `'${arg}'`).join(" "), "/dev/null"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode('{"ID":1,"Command":"close"}\n'));
  await writer.close();
  const output = await child.output();
  const text = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, text);
  assert.match(
    text,
    /gocacheprog: this program serves the go command's build cache, and the go command starts it: set GOCACHEPROG="gocacheprog"/,
  );
  assert.match(text, /\{"ID":0,"KnownCommands":\["get","put","close"\]\}/);
  assert.match(text, /\{"ID":1\}/);
  // Through a pipe, as the go command runs it: no such line.
  await using client = await FakeGoClient.start(argv);
  await client.send({ ID: 1, Command: "close" });
  assert.doesNotMatch((await client.finish()).stderr, /this program serves/);
});

Deno.test("gocacheprog's commands without GOCACHE use the go command's default directory", async () => {
  await using home = await tempDir();
  const stats = await runGocacheprog(["stats"], {
    GOCACHE: "",
    HOME: home.path,
    XDG_CACHE_HOME: "",
  });
  assert.equal(stats.code, 0, stats.stderr);
  assert.equal(stats.stdout, `local store ${home.path}/.cache/go-build: 0 entries, 0 files, 0 B\n`);
  const off = await runGocacheprog(["stats"], { GOCACHE: "off" });
  assert.equal(off.code, 2);
  assert.match(off.stderr, /gocacheprog: GOCACHE is "off"/);
});
