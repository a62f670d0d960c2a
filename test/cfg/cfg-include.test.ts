// include_file / import_file (with or without #!) and #!trydef: files are found as Kamailio finds
// them (as given, else next to the including file), their tokens keep their own file, so parse and
// load errors inside them name that file; a missing import_file is no error; loops, depth and
// non-files are refused by the including file:line:col with ERR_CFG_INCLUDE.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCfgFile } from "../../src/cfg/load-cfg.js";
import { routeContext } from "../support/route-context.js";

/** Writes `files` (relative path → text) in a fresh directory, runs fn on it, removes it. */
function withFiles(files: Record<string, string>, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "evsip-cfg-include-"));
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function refusedWith(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (e: Error & { code?: string }) => e.code === code && message.test(e.message), String(message));
}

test("includes nest relative to the including file, inside a route block too; defines cross files; import_file of nothing is a note", () => {
  withFiles(
    {
      "main.cfg": [
        'loadmodule "textops.so"',
        '#!include_file "lib/defs.cfg"',
        'import_file "lib/optional.cfg"',
        "request_route {",
        '  include_file "lib/body.cfg"',
        "  route(FROM_LIB);",
        "}",
        'include_file "lib/routes.cfg"',
      ].join("\n"),
      "lib/defs.cfg": '#!define WHO "lib"\n#!trydef WHO "not this"\n#!trydef OTHER 7\n',
      "lib/body.cfg": "$var(who) = WHO;\n$var(other) = OTHER;\n",
      "lib/routes.cfg": '#!include_file "more.cfg"\n',
      "lib/more.cfg": 'route[FROM_LIB] { if (is_method("INVITE")) $var(more) = "yes"; }\n',
    },
    (dir) => {
      const { app, notes } = loadCfgFile(join(dir, "main.cfg"));
      const ctx = routeContext();
      void app.request?.(ctx as never);
      assert.deepEqual([ctx.pv("$var(who)"), ctx.pv("$var(other)"), ctx.pv("$var(more)")], ["lib", 7, "yes"]);
      assert.equal(
        notes.filter((n) => /main\.cfg:3: import_file "lib\/optional\.cfg" not found .*, skipped$/.test(n)).length,
        1,
        notes.join("\n"),
      );
    },
  );
});

test("errors inside an included file name that file, line and column", () => {
  withFiles(
    {
      "main.cfg": 'loadmodule "sl.so"\ninclude_file "bad-syntax.cfg"\n',
      "bad-syntax.cfg": "request_route {\n  if (\n}\n",
      "main2.cfg": '\n\n#!include_file "bad-name.cfg"\n',
      "bad-name.cfg": "request_route {\n  save();\n}\n",
    },
    (dir) => {
      refusedWith(
        () => loadCfgFile(join(dir, "main.cfg")),
        "ERR_CFG_SYNTAX",
        new RegExp(`^${join(dir, "bad-syntax.cfg")}:3:1: `),
      );
      refusedWith(
        () => loadCfgFile(join(dir, "main2.cfg")),
        "ERR_CFG_UNSUPPORTED",
        new RegExp(`^${join(dir, "bad-name.cfg")}:2:3: function save\\(\\)`),
      );
    },
  );
});

test("refused by the including file:line:col: a missing include_file, a loop, more than 10 nested, a directory, no quotes", () => {
  const chain: Record<string, string> = { "c0.cfg": "" };
  for (let i = 1; i <= 11; i++) chain[`c${i}.cfg`] = `include_file "c${i - 1}.cfg"\n`;
  withFiles(
    {
      "missing.cfg": '\n  include_file "nope.cfg"\n',
      "a.cfg": '#!include_file "b.cfg"\n',
      "b.cfg": '\n#!include_file "a.cfg"\n',
      "dir.cfg": 'include_file "sub"\n',
      "sub/x.cfg": "",
      "unquoted.cfg": "include_file nope.cfg\n",
      ...chain,
    },
    (dir) => {
      const at = (f: string, pos: string): RegExp => new RegExp(`^${join(dir, f)}:${pos}: `);
      refusedWith(() => loadCfgFile(join(dir, "missing.cfg")), "ERR_CFG_INCLUDE", at("missing.cfg", "2:3"));
      refusedWith(
        () => loadCfgFile(join(dir, "a.cfg")),
        "ERR_CFG_INCLUDE",
        /b\.cfg:2:1: include loop: .*a\.cfg → .*b\.cfg → .*a\.cfg$/,
      );
      assert.doesNotThrow(() => loadCfgFile(join(dir, "c10.cfg"))); // ten includes nested: Kamailio's bound
      refusedWith(() => loadCfgFile(join(dir, "c11.cfg")), "ERR_CFG_INCLUDE", /c1\.cfg:1:1: includes nested deeper than 10$/);
      refusedWith(() => loadCfgFile(join(dir, "dir.cfg")), "ERR_CFG_INCLUDE", /not a regular file/);
      refusedWith(() => loadCfgFile(join(dir, "unquoted.cfg")), "ERR_CFG_INCLUDE", /needs a file name in double quotes/);
    },
  );
});
