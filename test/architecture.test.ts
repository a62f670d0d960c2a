// Guards the layer table of docs/architecture.md: imports in src/ point down only, modules never import
// each other, and nothing but src/errors.ts and src/common/ (small helpers every layer needs the same
// way: host:port, rate-limited logging, FNV-1a) is importable from everywhere; common itself imports
// only errors, so it stays the floor. The client package (packages/client, evsip-client: the SDK and
// the netstring codec) sits apart below it all: it imports only Node's built-ins and its own files,
// and the router reaches it by its package name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, dirname, resolve, relative } from "node:path";

/** Importable from every layer; each imports no layer of evsip but errors. */
const FLOOR = new Set(["errors", "common"]);

const ALLOWED: Record<string, readonly string[]> = {
  errors: [],
  common: [],
  sip: [],
  transport: ["sip"],
  tm: ["sip", "transport"],
  // core sees tm's types only (the transaction user seam, checked below), never its code.
  core: ["sip", "transport", "tm"],
  // The transaction user: the one implementation of core's TransactionUser on top of tm.
  tu: ["sip", "transport", "tm", "core"],
  // Modules reach transactions through ModuleHost.tm only: never tm, tu, sip or transport.
  modules: ["core"],
  metrics: ["sip", "transport", "tm", "core", "modules"],
  top: ["sip", "transport", "tm", "tu", "core", "modules", "client", "metrics"],
  // A Kamailio cfg translated into an AppDefinition: above top (it builds what top runs).
  cfg: ["top", "sip", "transport", "tm", "tu", "core", "modules"],
  cli: ["cfg", "top", "sip", "transport", "tm", "tu", "core", "modules"],
  client: [],
};

/** Which layers may import which entry of the client package. */
const CLIENT_PACKAGE: Record<string, readonly string[]> = {
  "evsip-client": ["client"],
  "evsip-client/netstring": ["modules"],
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
    for (const m of text.matchAll(/(?:import|export)[^;]*?from\s+"(evsip-client[^"]*)"/g)) {
      if (!(CLIENT_PACKAGE[m[1] ?? ""] ?? []).includes(from)) problems.push(`${file} (${from}) imports ${m[1]}`);
    }
  }
  assert.deepEqual(problems, []);
});

test("the client package imports only Node's built-ins and its own files", () => {
  const problems: string[] = [];
  for (const file of walk("packages/client/src")) {
    for (const m of readFileSync(file, "utf8").matchAll(/(?:import|export)[^;]*?from\s+"([^"]+)"/g)) {
      const spec = m[1] ?? "";
      if (spec.startsWith("node:")) continue;
      const inside = spec.startsWith(".") && !relative("packages/client/src", resolve(dirname(file), spec)).startsWith("..");
      if (!inside) problems.push(`${file} imports ${spec}`);
    }
  }
  assert.deepEqual(problems, []);
});

test("core uses tm's types only: the transaction user is the one place that drives tm", () => {
  const problems: string[] = [];
  for (const file of walk("src/core")) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/^(import|export)(\s+type)?[^;]*?from\s+"(\.[^"]+)"/gm)) {
      const target = relative(process.cwd(), resolve(dirname(file), (m[3] ?? "").replace(/\.js$/, ".ts")));
      if (layerOf(target) === "tm" && m[2] === undefined) problems.push(`${file} imports tm code: ${m[0]}`);
    }
  }
  assert.deepEqual(problems, []);
});

test("no route context is cast to reach another module's API", () => {
  const problems: string[] = [];
  for (const file of walk("src")) {
    const text = readFileSync(file, "utf8");
    if (/ctx as unknown as/.test(text)) problems.push(file);
  }
  assert.deepEqual(problems, []);
});

test("docs/architecture.md shows the same layer table", () => {
  const documented: Record<string, string[]> = {};
  for (const line of readFileSync("docs/architecture.md", "utf8").split("\n")) {
    const cells = line
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
    const layer = cells[0] ?? "";
    if (cells.length !== 4 || !(layer in ALLOWED)) continue;
    const list = (cells[3] ?? "").replace(/\(.*\)/, "").trim();
    documented[layer] =
      list === "nothing"
        ? []
        : list
            .split(",")
            .map((l) => l.trim())
            .sort();
  }
  const code = Object.fromEntries(Object.entries(ALLOWED).map(([layer, to]) => [layer, [...to].sort()]));
  assert.deepEqual(documented, code);
});
