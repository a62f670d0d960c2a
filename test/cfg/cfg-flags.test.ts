// setflag/resetflag/isflagset and the kex branch-flag forms, on a real engine's route context:
// they map onto ctx.setFlag & co., $mf and $bf read the words, bad flag numbers are refused at
// load. What the flags do across a transaction is checked on the wire against Kamailio
// (test/interop/cfg-flags-kamailio.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadCfgText } from "../../src/cfg/load-cfg.js";
import { routeContext } from "../support/route-context.js";

function run(body: string, head = 'loadmodule "kex.so"'): ReturnType<typeof routeContext> {
  const { app } = loadCfgText(`${head}\nrequest_route {\n${body}\n}\n`, "t.cfg");
  const ctx = routeContext();
  void app.request?.(ctx as never);
  return ctx;
}

test("setflag, resetflag, isflagset: by number or #!define'd name; $mf is the word", () => {
  const ctx = run(`
    #!define FLT_ACC 1
    setflag(FLT_ACC);
    setflag(31);
    setflag(6);
    resetflag(6);
    if (isflagset(FLT_ACC)) $var(acc) = 1;
    if (!isflagset(6)) $var(six) = "clear";
    $var(mf) = $mf;
  `);
  assert.deepEqual([ctx.pv("$var(acc)"), ctx.pv("$var(six)"), ctx.pv("$var(mf)")], [1, "clear", 2 + 2 ** 31]);
  assert.equal(ctx.isFlagSet(31), true);
  assert.equal(ctx.isFlagSet(6), false);
});

test("setbflag & co. (kex): branch 0, a pseudo-variable flag, $bf readable and writable", () => {
  const ctx = run(`
    $var(f) = 4;
    setbflag($var(f));
    setbflag(2, 0);
    resetbflag(2);
    if (isbflagset(4) && !isbflagset(2)) $var(b) = $bf;
    $mf = 5;
    if (isflagset(0) && isflagset(2)) $var(m) = "set by $mf";
    $var(f) = 40;
    if (!setbflag($var(f))) $var(range) = "false";
  `);
  assert.deepEqual([ctx.pv("$var(b)"), ctx.pv("$var(m)"), ctx.pv("$var(range)")], [16, "set by 5", "false"]);
  assert.equal(ctx.isBranchFlagSet(4), true);
});

test("the route context API: out-of-range flags are false and change nothing", () => {
  const ctx = routeContext();
  assert.equal(ctx.setFlag(32), false);
  assert.equal(ctx.setFlag(-1), false);
  assert.equal(ctx.setFlag(1.5), false);
  assert.equal(ctx.isFlagSet(32), false);
  assert.equal(ctx.pv("$mf"), 0);
  assert.equal(ctx.setBranchFlag(0), true);
  assert.equal(ctx.pv("$bf"), 1);
});

test("refused at load: a flag outside 0..31, a pseudo-variable for a core flag, a branch other than 0, setbflag without kex", () => {
  const refused: Array<[string, RegExp, string, string?]> = [
    ["setflag(32);", /^t\.cfg:3:9: setflag\(\): a flag is an integer from 0 to 31$/, "ERR_CFG_SYNTAX"],
    ["isflagset($var(x));", /isflagset\(\): a flag is an integer from 0 to 31$/, "ERR_CFG_SYNTAX"],
    ['resetflag("abc");', /resetflag\(\): a flag/, "ERR_CFG_SYNTAX"],
    ["setbflag(33);", /setbflag\(\): a flag is an integer from 0 to 31 or a pseudo-variable/, "ERR_CFG_SYNTAX"],
    ["setbflag(1, 1);", /^t\.cfg:3:13: setbflag\(\): evsip keeps the flags of branch 0 only/, "ERR_CFG_UNSUPPORTED"],
    ["setbflag(1);", /setbflag\(\) needs loadmodule "kex.so"/, "ERR_CFG_UNSUPPORTED", ""],
  ];
  assert.throws(
    () => loadCfgText("flags FLT_ACC: 1;\nrequest_route { setflag(FLT_ACC); }", "t.cfg"),
    (e: Error & { code?: string }) =>
      e.code === "ERR_CFG_UNSUPPORTED" && /^t\.cfg:1:1: flags declarations .*#!define/.test(e.message),
  );
  for (const [body, re, code, head] of refused) {
    assert.throws(
      () => loadCfgText(`${head ?? 'loadmodule "kex.so"'}\nrequest_route {\n${body}\n}\n`, "t.cfg"),
      (e: Error & { code?: string }) => re.test(e.message) && e.code === code,
      body,
    );
  }
});
