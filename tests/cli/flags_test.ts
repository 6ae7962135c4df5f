import assert from "node:assert/strict";
import { ENV_VARIABLES, FLAGS } from "../../src/cli/flags.ts";
import { defaultLabel } from "../../src/cli/usage.ts";
import { REDIS_ENV_PERMISSION } from "../../src/cli/permissions.ts";

Deno.test("ENV_VARIABLES lists every flag's variable and GOCACHE, once each", () => {
  for (const flag of FLAGS) {
    if (flag.env !== undefined) assert.ok(ENV_VARIABLES.includes(flag.env), flag.env);
  }
  assert.ok(ENV_VARIABLES.includes("GOCACHE"));
  assert.equal(new Set(ENV_VARIABLES).size, ENV_VARIABLES.length);
});

Deno.test("every flag has one setting, and every name is taken once", () => {
  const keys = FLAGS.map((flag) => flag.key);
  assert.equal(new Set(keys).size, keys.length);
  const names = FLAGS.flatMap((flag) => [flag.name, ...(flag.aliases ?? [])]);
  assert.equal(new Set(names).size, names.length);
});

Deno.test("the README's flags table lists every flag with its variable and its default", async () => {
  const text = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  assert.ok(text.includes(`--allow-env=${REDIS_ENV_PERMISSION}`), "the Redis mode permission");
  const readme = text.split("\n");
  for (const flag of FLAGS) {
    const row = readme.find((line) =>
      line.startsWith(`| \`--${flag.name} `) || line.startsWith(`| \`--${flag.name}\``)
    );
    assert.ok(row !== undefined, `--${flag.name} has a row`);
    if (flag.env !== undefined) assert.ok(row.includes(`\`${flag.env}\``), row);
    const cells = row.split(" | ").map((cell) => cell.trim());
    const label = defaultLabel(flag);
    if (label !== undefined && !(flag.kind === "boolean" && flag.default === undefined)) {
      assert.equal(cells[2]?.replaceAll("`", ""), label, `the default of --${flag.name}`);
    }
  }
});
