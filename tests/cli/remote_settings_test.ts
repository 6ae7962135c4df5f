/** The Redis settings as read from the flags and the files they name. */
import assert from "node:assert/strict";
import { x509Version } from "../../src/cli/remote_settings.ts";
import { UsageError } from "../../src/errors.ts";
import { makeTlsCertificates } from "../support/tls.ts";
import { commandContext } from "../support/commands.ts";
import { requireTool, tempDir } from "../support/tools.ts";

Deno.test("a client certificate without its key, or a key without its certificate, is a usage error", async () => {
  await using dir = await tempDir();
  for (const flag of ["--redis-tls-cert", "--redis-tls-key"]) {
    assert.throws(
      () =>
        commandContext([
          "stats",
          "--dir",
          dir.path,
          "--redis-url",
          "rediss://cache:6380",
          flag,
          "/x",
        ]),
      (error: Error) => error instanceof UsageError && /go together/.test(error.message),
    );
  }
});

Deno.test("an X.509 v1 client certificate is named as the side at fault, with the fix", async () => {
  await using dir = await tempDir();
  const tls = await makeTlsCertificates(dir.path);
  assert.equal(x509Version(await Deno.readTextFile(tls.clientCert)), 3);
  // What openssl x509 -req makes without extensions: a v1 certificate.
  const v1 = `${dir.path}/v1.crt`;
  const openssl = await new Deno.Command(requireTool("openssl"), {
    args: [
      "x509",
      "-req",
      "-in",
      `${dir.path}/client.csr`,
      "-CA",
      tls.ca,
      "-CAkey",
      `${dir.path}/ca.key`,
      "-CAcreateserial",
      "-days",
      "2",
      "-out",
      v1,
    ],
    stdout: "null",
    stderr: "null",
  }).output();
  assert.ok(openssl.success);
  assert.equal(x509Version(await Deno.readTextFile(v1)), 1);
  const { context } = commandContext([
    "stats",
    "--dir",
    dir.path,
    "--redis-url",
    "rediss://localhost:6380",
    "--redis-tls-cert",
    v1,
    "--redis-tls-key",
    tls.clientKey,
  ]);
  assert.equal(context.remote, undefined);
  assert.match(
    context.remoteProblem ?? "",
    /client certificate ".*v1\.crt" is X\.509 v1, .*issue it as v3/,
  );
});
