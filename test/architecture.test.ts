// Guards the layer table of docs/architecture.md: imports in src/ point down only, modules never import
// each other, and nothing but src/errors.ts is importable from everywhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, dirname, resolve, relative } from "node:path";

const ALLOWED: Record<string, readonly string[]> = {
  errors: [],
  netstring: [],
  sip: [],
  transport: ["sip"],
  tm: ["sip", "transport"],
  core: ["sip", "transport", "tm"],
  modules: ["core", "tm", "netstring"], // as docs/architecture.md: never sip or transport directly
  metrics: ["sip", "transport", "tm", "core", "modules", "netstring"],
  top: ["sip", "transport", "tm", "core", "modules", "netstring", "client", "metrics"],
  cli: ["top", "sip", "transport", "tm", "core", "modules", "netstring"],
  client: ["netstring"],
};

function layerOf(file: string): string {
  const rel = relative("src", file).split("/");
  if (rel.length === 1) {
    if (rel[0] === "errors.ts") return "errors";
    if (rel[0] === "cli.ts") return "cli";
    return "top";
  }
  return rel[0] ?? "top";
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

test("imports in src/ follow the layer table", () => {
  const problems: string[] = [];
  for (const file of walk("src")) {
    const from = layerOf(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:import|export)[^;]*?from\s+"(\.[^"]+)"/g)) {
      const target = resolve(dirname(file), (m[1] ?? "").replace(/\.js$/, ".ts"));
      const to = layerOf(relative(process.cwd(), target));
      if (to === from || to === "errors") {
        if (from === "modules" && to === "modules") {
          const a = relative("src/modules", file).split("/")[0];
          const b = relative("src/modules", relative(process.cwd(), target)).split("/")[0];
          if (a !== b) problems.push(`${file}: module ${a} imports module ${b}`);
        }
        continue;
      }
      if (!(ALLOWED[from] ?? []).includes(to)) problems.push(`${file} (${from}) imports ${m[1]} (${to})`);
    }
  }
  assert.deepEqual(problems, []);
});

test("docs/architecture.md shows the same layer table", () => {
  const documented: Record<string, string[]> = {};
  for (const line of readFileSync("docs/architecture.md", "utf8").split("\n")) {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    const layer = cells[0] ?? "";
    if (cells.length !== 4 || !(layer in ALLOWED)) continue;
    const list = (cells[3] ?? "").replace(/\(.*\)/, "").trim();
    documented[layer] = list === "nothing" ? [] : list.split(",").map((l) => l.trim()).sort();
  }
  const code = Object.fromEntries(Object.entries(ALLOWED).map(([layer, to]) => [layer, [...to].sort()]));
  assert.deepEqual(documented, code);
});
