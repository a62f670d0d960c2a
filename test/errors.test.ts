// The error catalogue is honest: every code in src/errors.ts has a row in docs/errors.md and back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ERROR_CODES, EvsipError, JsonRpcError } from "../src/errors.js";

test("docs/errors.md lists exactly the codes of src/errors.ts", () => {
  const doc = readFileSync("docs/errors.md", "utf8");
  const documented = new Set([...doc.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
  const declared = new Set<string>(ERROR_CODES);
  assert.deepEqual(
    [...declared].filter((c) => !documented.has(c)),
    [],
    "codes missing from docs/errors.md",
  );
  assert.deepEqual(
    [...documented].filter((c) => !declared.has(c as string)),
    [],
    "documented codes not declared",
  );
  assert.equal(declared.size, ERROR_CODES.length, "duplicate codes in ERROR_CODES");
});

test("errors carry their code and class name", () => {
  const e = new JsonRpcError("ERR_JSONRPC_REMOTE", "boom", { remote: { code: -32601 } });
  assert.ok(e instanceof EvsipError);
  assert.equal(e.code, "ERR_JSONRPC_REMOTE");
  assert.equal(e.name, "JsonRpcError");
  assert.deepEqual(e.remote, { code: -32601 });
});

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

test("every ERR_ code written in src/ is declared (Node's own ERR_HTTP_* aside)", () => {
  const declared = new Set<string>(ERROR_CODES);
  const stray: string[] = [];
  for (const file of sources("src")) {
    for (const m of readFileSync(file, "utf8").matchAll(/"(ERR_[A-Z0-9_]+)"/g)) {
      const code = m[1] as string;
      if (!declared.has(code) && !code.startsWith("ERR_HTTP_")) stray.push(`${file}: ${code}`);
    }
  }
  assert.deepEqual(stray, []);
});
