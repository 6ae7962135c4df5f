import assert from "node:assert/strict";
import { parseYamlSubset } from "./yaml_subset.ts";

Deno.test("parseYamlSubset() reads maps, lists, quoted and block scalars, and drops comments", () => {
  const value = parseYamlSubset(`
variables:
  A: $B/c # a comment
  Q: "x # not a comment"
build:
  before_script:
    - echo 'one'
    - >-
      folded
      line
  script:
    - run: |
        echo a
        echo b
      name: two
    - uses: x@v1
      with:
        go-version: "1.26"
`);
  assert.deepEqual(value, {
    variables: { A: "$B/c", Q: "x # not a comment" },
    build: {
      before_script: ["echo 'one'", "folded line"],
      script: [
        { run: "echo a\necho b\n", name: "two" },
        { uses: "x@v1", with: { "go-version": "1.26" } },
      ],
    },
  });
});

Deno.test("parseYamlSubset() refuses what it does not read, rather than misread it", () => {
  for (
    const source of ["a: { b: c }", "a: [1, 2]", "a: &x 1", "a:\n    b: 1\n  c: 2", "a: 1\na: 2"]
  ) {
    assert.throws(() => parseYamlSubset(source), SyntaxError, source);
  }
});
