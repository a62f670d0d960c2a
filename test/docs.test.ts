// A clone is self-sufficient: no file points outside the repository for its design, every `*.md`
// path a file names exists in the repository (relative to that file or to the root), and every
// relative Markdown link resolves, down to the heading its `#anchor` names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, relative } from "node:path";

const ROOT = process.cwd();
const SKIP_DIRS = new Set(["node_modules", "dist", ".git"]);
const TEXT = new Set([".md", ".ts", ".js", ".mjs", ".cjs", ".json", ".xml", ".cfg", ".py", ".sh", ".yml", ".yaml", ".txt"]);
const SKIP_FILES = new Set(["package-lock.json"]);
// Paths of the reference material kept beside the repository, written in pieces so that this file
// does not name what it forbids. The repository describes the seeds itself, in docs/origins.md.
const OUTSIDE = [["shared", "design"].join("/"), ["seeds", ""].join("/")];

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (TEXT.has(extname(name)) && !SKIP_FILES.has(name)) out.push(p);
  }
  return out;
}

const files = walk(ROOT).map((p) => ({ path: relative(ROOT, p), text: readFileSync(p, "utf8") }));

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
function slug(heading: string): string {
  const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/`/g, "");
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a Markdown file's headings (outside code fences), with GitHub's -1, -2 for repeats. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const repeats = new Map<string, number>();
  let fenced = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1] ?? "");
    const n = repeats.get(base) ?? 0;
    anchors.add(n === 0 ? base : `${base}-${n}`);
    repeats.set(base, n + 1);
  }
  return anchors;
}

/**
 * Where a path named in `from` points: next to `from`, else from the root, else from the root
 * without its leading `../` (code that resolves a path from its compiled place in dist/).
 */
function resolveNamed(from: string, name: string): string | undefined {
  // Relative to the naming file, to any folder above it (bench/support names a file of bench/),
  // or to the root.
  const tries = [name.replace(/^(?:\.\.?\/)+/, "")];
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    tries.unshift(join(dir, name));
    if (dir === "." || dir === "/" || dir === "") break;
  }
  for (const p of tries) {
    if (existsSync(join(ROOT, p))) return p;
  }
  return undefined;
}

test("no file points at a design or seed kept outside the repository", () => {
  const hits = files.filter((f) => OUTSIDE.some((o) => f.text.includes(o))).map((f) => f.path);
  assert.deepEqual(hits, []);
});

test("every *.md file a file names exists in the repository", () => {
  const missing: string[] = [];
  for (const f of files) {
    for (const m of f.text.matchAll(/(?<![\w./*-])((?:\.\.?\/)*[\w.-]+(?:\/[\w.-]+)*\.md)(?![\w/])/g)) {
      const name = m[1] ?? "";
      if (resolveNamed(f.path, name) === undefined) missing.push(`${f.path}: ${name}`);
    }
  }
  assert.deepEqual(missing, []);
});

test("every relative Markdown link resolves, anchors included", () => {
  const broken: string[] = [];
  for (const f of files.filter((x) => x.path.endsWith(".md"))) {
    for (const m of f.text.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
      const target = m[1] ?? "";
      if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
      const [file = "", anchor] = target.split("#");
      const path = file === "" ? f.path : join(dirname(f.path), file);
      if (!existsSync(join(ROOT, path))) {
        broken.push(`${f.path}: ${target} (no such file)`);
        continue;
      }
      if (anchor === undefined || !path.endsWith(".md")) continue;
      if (!anchorsOf(readFileSync(join(ROOT, path), "utf8")).has(anchor)) broken.push(`${f.path}: ${target} (no such heading)`);
    }
  }
  assert.deepEqual(broken, []);
});

test("the docs index lists every page in docs/", () => {
  const index = readFileSync(join(ROOT, "docs/README.md"), "utf8");
  const pages = readdirSync(join(ROOT, "docs")).filter((n) => n.endsWith(".md") && n !== "README.md");
  assert.deepEqual(
    pages.filter((p) => !index.includes(`](${p})`)),
    [],
  );
});

test("every layer metric is in the metrics README's table, with its labels", async () => {
  const { LAYER_METRICS } = await import("../src/metrics/layer-metrics.js");
  const table = readFileSync("src/metrics/README.md", "utf8");
  const missing = LAYER_METRICS.map((m) => `\`${m.name}${m.label === undefined ? "" : `{${m.label}}`}\``).filter(
    (row) => !table.includes(`| ${row} |`),
  );
  assert.deepEqual(missing, []);
});

test("docs/params.md gives every sip, udp and tcp param with the schema's default", async () => {
  const { SIP_SCHEMA, TCP_SCHEMA, UDP_SCHEMA } = await import("../src/params.js");
  const page = readFileSync("docs/params.md", "utf8");
  const schemas: Record<string, Record<string, { default: unknown }>> = { sip: SIP_SCHEMA, udp: UDP_SCHEMA, tcp: TCP_SCHEMA };
  const missing: string[] = [];
  for (const [section, schema] of Object.entries(schemas)) {
    for (const [name, spec] of Object.entries(schema)) {
      const row = `| \`${section}.${name}\` | \`${String(spec.default)}\` |`;
      if (!page.includes(row)) missing.push(row);
    }
  }
  assert.deepEqual(missing, []);
});

/** Code without what formatting changes: comments, whitespace, semicolons, trailing commas. */
function codeOnly(text: string): string {
  return text
    .replace(/\/\/[^\n]*/g, "")
    .replace(/\s+/g, "")
    .replace(/;/g, "")
    .replace(/,([}\])])/g, "$1");
}

test("the README's opening TypeScript snippets are the code of examples/readme, which the build type-checks", () => {
  // The tour's own snippets after them are edits to examples/hello, run by hand.
  const readme = readFileSync(join(ROOT, "README.md"), "utf8").split("## A five-minute tour")[0] ?? "";
  const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => codeOnly(m[1] ?? ""));
  const examples = ["app.ts", "awaitable.ts"].map((f) => codeOnly(readFileSync(join(ROOT, "examples/readme", f), "utf8")));
  assert.equal(snippets.length, examples.length, "one example per README snippet");
  snippets.forEach((snippet, i) =>
    assert.ok(examples[i]?.includes(snippet), `README snippet ${i + 1} differs from examples/readme`),
  );
});
