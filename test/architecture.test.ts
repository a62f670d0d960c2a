// Guards the layer table of ARCHITECTURE.md: imports in src/ point down only, modules never import
// each other, and nothing but src/errors.ts and src/common/ (small helpers every layer needs the same
// way: host:port, rate-limited logging, FNV-1a) is importable from everywhere. common itself imports
// only errors, so it stays the floor.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, dirname, resolve, relative } from "node:path";

/** Importable from every layer; each imports no layer of evsip but errors. */
const FLOOR = new Set(["errors", "common"]);

const ALLOWED: Record<string, readonly string[]> = {
  errors: [],
  common: [],
  netstring: [],
  sip: [],
  transport: ["sip"],
  tm: ["sip", "transport"],
  core: ["sip", "transport", "tm"],
  modules: ["core", "tm", "netstring"], // as ARCHITECTURE.md: never sip or transport directly
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
      if (to === from || (FLOOR.has(to) && from !== "errors")) {
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
