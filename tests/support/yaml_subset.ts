/**
 * A reader for the small part of YAML that the README's CI recipes use: block maps and
 * lists by indentation, plain and quoted scalars, `|` and `>-` block scalars, and
 * comments. Anything else is refused, so that a recipe never holds what the tests
 * cannot read. (JSR's `@std/yaml` is out of reach on these machines.)
 *
 * @module
 */

/** A value the subset can hold. */
export type YamlValue = string | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  number: number;
}

/**
 * Reads a YAML document of the subset.
 *
 * @param source The document.
 * @returns Its value: a map or a list at the top.
 * @throws {SyntaxError} On anything outside the subset.
 */
export function parseYamlSubset(source: string): YamlValue {
  const lines: Line[] = source.split("\n").map((raw, i) => ({
    indent: raw.length - raw.trimStart().length,
    text: raw.trimEnd(),
    number: i + 1,
  }));
  const reader = { lines, at: 0 };
  skipBlank(reader);
  if (reader.at >= lines.length) return {};
  const value = block(reader, lines[reader.at]!.indent);
  skipBlank(reader);
  if (reader.at < lines.length) fail(lines[reader.at]!, "unexpected indentation");
  return value;
}

type Reader = { lines: Line[]; at: number };

function fail(line: Line, why: string): never {
  throw new SyntaxError(`YAML line ${line.number}: ${why}: ${JSON.stringify(line.text.trim())}`);
}

function isBlank(line: Line): boolean {
  const text = line.text.trim();
  return text === "" || text.startsWith("#");
}

function skipBlank(reader: Reader): void {
  while (reader.at < reader.lines.length && isBlank(reader.lines[reader.at]!)) reader.at++;
}

/** A block (map or list) whose lines start at `indent`. */
function block(reader: Reader, indent: number): YamlValue {
  const first = reader.lines[reader.at]!;
  return first.text.trim().startsWith("- ") || first.text.trim() === "-"
    ? list(reader, indent)
    : map(reader, indent, undefined);
}

function list(reader: Reader, indent: number): YamlValue[] {
  const items: YamlValue[] = [];
  for (;;) {
    skipBlank(reader);
    const line = reader.lines[reader.at];
    if (line === undefined || line.indent < indent) return items;
    if (line.indent > indent) fail(line, "unexpected indentation");
    const content = line.text.trim();
    if (!content.startsWith("- ")) return items;
    const rest = content.slice(2);
    if (/^[A-Za-z0-9_.-]+:(\s|$)/.test(rest)) {
      // A map in a list item: its first entry on the dash's line, the others below.
      items.push(
        map(reader, indent + 2, {
          ...line,
          indent: indent + 2,
          text: " ".repeat(indent + 2) + rest,
        }),
      );
    } else {
      reader.at++;
      items.push(scalarOrBlockScalar(reader, line, rest, indent));
    }
  }
}

function map(
  reader: Reader,
  indent: number,
  firstLine: Line | undefined,
): Record<string, YamlValue> {
  const entries: Record<string, YamlValue> = {};
  let pending = firstLine;
  for (;;) {
    let line: Line;
    if (pending !== undefined) {
      line = pending;
      pending = undefined;
    } else {
      skipBlank(reader);
      const next = reader.lines[reader.at];
      if (next === undefined || next.indent < indent) return entries;
      if (next.indent > indent) fail(next, "unexpected indentation");
      if (next.text.trim().startsWith("- ")) return entries;
      line = next;
    }
    reader.at++;
    const match = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(line.text.trim());
    if (match === null) fail(line, "not a map entry");
    const [, key, value] = match;
    if (key! in entries) fail(line, "a key given twice");
    if (value === undefined || stripComment(value) === "") {
      skipBlank(reader);
      const next = reader.lines[reader.at];
      entries[key!] = next !== undefined && next.indent > indent
        ? block(reader, next.indent)
        : next !== undefined && next.indent === indent && next.text.trim().startsWith("- ")
        ? list(reader, indent)
        : "";
    } else {
      entries[key!] = scalarOrBlockScalar(reader, line, value, indent);
    }
  }
}

/** A scalar, or the block scalar (`|`, `>-`) that starts on the next line. */
function scalarOrBlockScalar(reader: Reader, line: Line, raw: string, indent: number): string {
  const text = stripComment(raw);
  if (text === "|" || text === ">-") {
    const body: string[] = [];
    let bodyIndent: number | undefined;
    while (reader.at < reader.lines.length) {
      const next = reader.lines[reader.at]!;
      if (next.text.trim() === "") {
        body.push("");
        reader.at++;
        continue;
      }
      if (next.indent <= indent) break;
      bodyIndent ??= next.indent;
      if (next.indent < bodyIndent) fail(next, "a block scalar's lines must line up");
      body.push(next.text.slice(bodyIndent));
      reader.at++;
    }
    while (body.length > 0 && body[body.length - 1] === "") body.pop();
    return text === "|" ? body.join("\n") + "\n" : body.join(" ");
  }
  if (/^[\[{&*!%@`]/.test(text)) fail(line, "flow collections, anchors and tags are not read");
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2) fail(line, "an unclosed quote");
    return JSON.parse(text);
  }
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) fail(line, "an unclosed quote");
    return text.slice(1, -1).replaceAll("''", "'");
  }
  return text;
}

/** Drops a comment: `#` at the start or after a space, outside quotes. */
function stripComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      if (i === 0 || text[i - 1] === " ") quote = char;
    } else if (char === "#" && (i === 0 || text[i - 1] === " ")) {
      return text.slice(0, i).trimEnd();
    }
  }
  return text.trimEnd();
}
