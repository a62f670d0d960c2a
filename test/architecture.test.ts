// Guards the layer table of ARCHITECTURE.md: imports in src/ point down only, modules never import
// each other, and nothing but src/errors.ts is importable from everywhere. The client package
// (packages/client, evsip-client: the SDK and the netstring codec) sits below it all: it imports
// only Node's built-ins and its own files, and the router reaches it by its package name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, dirname, resolve, relative } from "node:path";

const ALLOWED: Record<string, readonly string[]> = {
  errors: [],
  sip: [],
  transport: ["sip"],
  tm: ["sip", "transport"],
  core: ["sip", "transport", "tm"],
  modules: ["core", "tm"], // as ARCHITECTURE.md: never sip or transport directly
  metrics: ["sip", "transport", "tm", "core", "modules"],
  top: ["sip", "transport", "tm", "core", "modules", "client", "metrics"],
  cli: ["top", "sip", "transport", "tm", "core", "modules"],
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
