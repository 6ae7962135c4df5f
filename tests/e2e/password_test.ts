/**
 * Passwords never reach what the program prints: not with a refused login, not with
 * every log flag on, and whatever characters they hold, wherever they are given (a URL,
 * a flag, the environment, a file).
 */
import assert from "node:assert/strict";
import { freshGoCache, makeGoModule, runGo } from "../support/go.ts";
import { gocacheprogValue, programArgv, runGocacheprog } from "../support/program.ts";
import { startRedis } from "../support/redis_server.ts";
import { tempDir } from "../support/tools.ts";
import { actionIdFor, FakeGoClient, sha256Base64 } from "../support/fake_go_client.ts";
import { commandContext } from "../support/commands.ts";
import { runStats } from "../../src/cli/commands/stats.ts";

/** Every printable ASCII character but the space, in a fixed shuffled order. */
function printablePassword(): string {
  const chars = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i));
  let seed = 12345;
  for (let i = chars.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join("");
}

/** Fails if any 6 characters in a row of the secret show in the text. */
function assertHidden(text: string, secret: string, where: string): void {
  for (let i = 0; i + 6 <= secret.length; i++) {
    const piece = secret.slice(i, i + 6);
    assert.ok(
      !text.includes(piece),
      `${where} shows ${JSON.stringify(piece)} of the password:\n${text}`,
    );
  }
}

Deno.test("a password from the environment or a file never shows in arguments, logs or errors", async () => {
  await using work = await tempDir();
  const module = `${work.path}/module`;
  await Deno.mkdir(module);
  await makeGoModule(module);
  await using redis = await startRedis({ dir: work.path, password: "correct-horse" });
  const secretFile = `${work.path}/redis-password`;
  await Deno.writeTextFile(secretFile, "battery-staple-from-file\n");
  const cases = [
    {
      secret: "battery-staple-from-env",
      args: [],
      env: { GOCACHEPROG_REDIS_PASSWORD: "battery-staple-from-env" },
    },
    { secret: "battery-staple-from-file", args: ["--redis-password-file", secretFile], env: {} },
  ];
  for (const [i, { secret, args, env }] of cases.entries()) {
    const gocache = await freshGoCache(work.path, `cache-${i}`);
    const argv = programArgv({
      dir: gocache,
      passDir: false,
      redisHosts: ["127.0.0.1"],
      extraRead: [secretFile],
      args: [
        "--redis-url",
        `127.0.0.1:${redis.port}`,
        "--log-req",
        "--log-resp",
        "--log-metrics",
        ...args,
      ],
    });
    assert.ok(!argv.join(" ").includes(secret), "not in the program's arguments");
    const result = await runGo(["build", "./..."], {
      cwd: module,
      gocache,
      gocacheprog: gocacheprogValue(argv),
      env,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /gocacheprog: request \d+ get/, "request logging was on");
    assert.match(result.stderr, /WRONGPASS|invalid username-password/, "the refusal is reported");
    assert.ok(!result.stderr.includes(secret), `the password shows in stderr:\n${result.stderr}`);
    assert.ok(!result.stdout.includes(secret));
  }
});

Deno.test("a password of every printable ASCII character never shows, wherever it is given", async () => {
  await using work = await tempDir();
  const password = printablePassword();
  const withSpace = password.slice(0, 40) + " " + password.slice(40);
  const secretFile = `${work.path}/redis-password`;
  const dir = `${work.path}/cache`;
  await Deno.mkdir(dir);
  const logs = ["--log-req", "--log-resp", "--log-metrics"];
  for (const server of ["accepts", "refuses"] as const) {
    for (const secret of [password, withSpace]) {
      await using redis = await startRedis({ dir: work.path });
      // Set after start: redis-server would parse quotes in a password on its command line.
      await redis.cli("CONFIG", "SET", "requirepass", server === "accepts" ? secret : "another");
      await Deno.writeTextFile(secretFile, secret + "\n");
      const url = (raw: string) => `redis://:${raw}@127.0.0.1:${redis.port}`;
      const cases: { args: string[]; env: Record<string, string> }[] = [
        { args: ["--redis-url", url(encodeURIComponent(secret))], env: {} },
        { args: ["--redis-url", url(secret)], env: {} }, // not encoded: may not even parse
        { args: [], env: { GOCACHEPROG_REDIS_URL: url(secret) } },
        { args: ["--redis-password", secret], env: {} },
        { args: [], env: { GOCACHEPROG_REDIS_PASSWORD: secret } },
        { args: ["--redis-password-file", secretFile], env: {} },
      ];
      for (const { args, env } of cases) {
        const redisUrl = args.includes("--redis-url") || "GOCACHEPROG_REDIS_URL" in env
          ? []
          : ["--redis-url", `127.0.0.1:${redis.port}`];
        const argv = programArgv({
          dir,
          redisHosts: ["127.0.0.1"],
          extraRead: [secretFile],
          args: [...redisUrl, ...args, ...logs],
        });
        const what = `${server}, ${JSON.stringify(args.slice(0, 1))} ${Object.keys(env)}`;
        let client: FakeGoClient;
        try {
          client = await FakeGoClient.start(argv, env);
        } catch {
          // It refused to start (an address that cannot be read): its message is checked below.
          const refused = await runGocacheprog(["--dir", dir, ...redisUrl, ...args, ...logs], env);
          assert.equal(refused.code, 2, what);
          assertHidden(refused.stderr + refused.stdout, secret, what);
          continue;
        }
        const body = new TextEncoder().encode(`output for ${what}`);
        const put = {
          ID: 1,
          Command: "put",
          ActionID: await actionIdFor(what),
          OutputID: await sha256Base64(body),
          BodySize: body.length,
        };
        await client.request(put, body);
        await client.request({ ID: 2, Command: "get", ActionID: await actionIdFor(`${what} 2`) });
        await client.send({ ID: 3, Command: "close" });
        const { code, stderr } = await client.finish();
        assert.equal(code, 0, `${what}: ${stderr}`);
        assert.match(stderr, /request 1 put/, "request logging was on");
        assertHidden(stderr + JSON.stringify(client.responses), secret, what);
        // stats, in-process: the same settings from the same flags and environment.
        const stats = commandContext(["stats", "--dir", dir, ...redisUrl, ...args], { env });
        await runStats(stats.context);
        assertHidden([...stats.printed, ...stats.errors].join("\n"), secret, `stats, ${what}`);
      }
    }
  }
});
