// What translated statements and operators do at run time, on a real engine's route context: the
// values follow Kamailio's rules (docs/kamailio-cfg.md), loops are bounded, switch falls through.
import { test } from "node:test";
import { pino } from "pino";
import assert from "node:assert/strict";
import { loadCfgText } from "../../src/cfg/load-cfg.js";
import { isRouteExit } from "../../src/core/route-exit.js";
import { routeContext } from "../support/route-context.js";

/** Runs `body` as request_route (plus `extra` blocks) and returns the context to read $var from. */
function run(body: string, extra = "", head = ""): ReturnType<typeof routeContext> {
  const { app } = loadCfgText(`${head}\nrequest_route {\n${body}\n}\n${extra}`, "t.cfg");
  const ctx = routeContext();
  void app.request?.(ctx as never);
  return ctx;
}

test("operators: the left operand's type decides; integer arithmetic; =~ is case-insensitive", () => {
  const ctx = run(`
    $var(str) = "abc";
    $var(num) = "5";
    $var(a) = 5 + 3 * 2;
    $var(b) = "a" + 1;
    $var(c) = 7 / 0;
    $var(d) = -(2 - 5) mod 2;
    if ("10" == 10) $var(e) = "str-eq";
    if ($var(a) > 9 && !($var(a) >= 12)) $var(f) = "range";
    if ("INVITE" =~ "^inv") $var(g) = "icase";
    if ($var(none) != $null && $var(none) != "") $var(h) = "unset-var-is-0";
    if ($var(none) == 0 && !$var(str) && $var(num)) $var(i) = "truthy-by-int";
  `);
  assert.deepEqual(
    ["a", "b", "c", "d", "e", "f", "g", "h", "i"].map((n) => ctx.pv(`$var(${n})`)),
    [11, "a1", 0, 1, "str-eq", "range", "icase", "unset-var-is-0", "truthy-by-int"],
  );
});

test("while stops at max_while_loops (100 by default, or the global)", () => {
  assert.equal(run("while (1) { $var(i) = $var(i) + 1; }").pv("$var(i)"), 100);
  assert.equal(run("while (1) { $var(i) = $var(i) + 1; }", "", "max_while_loops=5").pv("$var(i)"), 5);
  assert.equal(run("while ($var(i) < 3) { $var(i) = $var(i) + 1; }").pv("$var(i)"), 3);
});

test("a runaway while is logged with its code and place, is worth -1, and the route goes on", () => {
  const lines: Array<{ code?: string; where?: string; level: number }> = [];
  const logger = pino({ level: "error" }, { write: (l: string) => void lines.push(JSON.parse(l) as (typeof lines)[number]) });
  const { app } = loadCfgText(
    'request_route {\n  route(SPIN);\n  $var(rc) = $rc;\n  $var(after) = "yes";\n}\nroute[SPIN] {\n  while (1) { $var(i) = 1; }\n}\n',
    "t.cfg",
  );
  const ctx = routeContext(undefined, logger);
  void app.request?.(ctx as never);
  assert.equal(ctx.pv("$var(after)"), "yes");
  assert.equal(ctx.pv("$var(rc)"), -1);
  assert.deepEqual(
    lines.map((l) => [l.code, l.where]),
    [["ERR_CFG_RUNAWAY_WHILE", "t.cfg:7:3"]],
  );
});

test("switch: the matching case runs and falls through until break; default when nothing matches", () => {
  const body = (x: string): string => `
    $var(x) = ${x};
    switch ($var(x)) {
      case 1: $var(a) = "one";
      case 2: $var(b) = "two"; break;
      case "three": $var(c) = "three";
      default: $var(d) = "default";
    }`;
  const one = run(body("1"));
  assert.deepEqual(
    ["a", "b", "c", "d"].map((n) => one.pv(`$var(${n})`)),
    ["one", "two", null, null],
  );
  const other = run(body("9"));
  assert.deepEqual(
    ["a", "b", "c", "d"].map((n) => other.pv(`$var(${n})`)),
    [null, null, null, "default"],
  );
});

test("route(X) is true when X returns > 0; return 0 ends the script as exit does", () => {
  const ctx = run(
    `if (!route(NO)) $var(no) = "false";
     if (route(YES)) $var(yes) = "true";`,
    "route[NO] { return -1; }\nroute[YES] { $var(in) = 1; }",
  );
  assert.deepEqual([ctx.pv("$var(no)"), ctx.pv("$var(yes)"), ctx.pv("$var(in)")], ["false", "true", 1]);
  const { app } = loadCfgText("request_route { route(STOP); $var(after) = 1; }\nroute[STOP] { return 0; }", "t.cfg");
  const c = routeContext();
  assert.throws(
    () => app.request?.(c as never),
    (e: unknown) => isRouteExit(e),
  );
  assert.equal(c.pv("$var(after)"), null);
});

test("$rc/$retcode/$? hold the last module function's or route()'s value; a route without return gives its last statement's", () => {
  const ctx = run(
    `is_method("BYE"); $var(a) = $rc;
     route(NEG); $var(b) = $?;
     is_method("BYE"); setflag(1); $var(x) = 1; $var(c) = $retcode;
     route(FALLS); $var(d) = $rc;
     route(BREAKS); $var(e) = $rc;
     if (!route(FALLS)) $var(f) = "false";
     $var(g) = "$rc";`,
    'route[NEG] { return -2; }\nroute[FALLS] { $var(t) = 1; is_method("BYE"); }\nroute[BREAKS] { switch (1) { case 1: break; } }',
    'loadmodule "textops.so"',
  );
  assert.deepEqual(
    ["a", "b", "c", "d", "e", "f", "g"].map((n) => ctx.pv(`$var(${n})`)),
    [-1, -2, -1, -1, 0, "false", "-1"],
  );
});
