// The cfg preprocessor, lexer and parser: errors name file:line:col, and no input (random or
// hostile) makes them throw anything but a CfgError.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CfgError } from "../../src/errors.js";
import { parseCfg } from "../../src/cfg/parser.js";
import { loadCfgText } from "../../src/cfg/load-cfg.js";

function refused(src: string, code: string, where: string, defines?: Map<string, string>): CfgError {
  try {
    loadCfgText(src, "k.cfg", defines);
  } catch (err) {
    assert.ok(err instanceof CfgError, `not a CfgError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.ok(err.message.startsWith(`k.cfg:${where}: `), err.message);
    return err;
  }
  assert.fail(`accepted: ${src}`);
}

test("#!define / #!ifdef / #!ifndef / #!else pick the branch, and -A defines win", () => {
  const src = [
    "#!KAMAILIO",
    "#!define WITH_A",
    "#!ifdef WITH_A",
    "#!define CODE 404",
    "#!else",
    "#!define CODE 500",
    "#!endif",
    "#!ifndef WITH_A",
    "garbage that is skipped (",
    "#!endif",
    'request_route { sl_send_reply(CODE, "x"); }',
  ].join("\n");
  const cfg = parseCfg(src, "k.cfg");
  const call = cfg.routes[0]?.body[0];
  assert.ok(call?.k === "expr" && call.e.k === "call");
  assert.deepEqual(call.e.args[0], { k: "int", v: 404, at: { file: "k.cfg", line: 11, col: 31 } });
  const over = parseCfg(src, "k.cfg", new Map([["CODE", "403"]]));
  const c2 = over.routes[0]?.body[0];
  assert.ok(c2?.k === "expr" && c2.e.k === "call");
  assert.equal(c2.e.args[0]?.k === "int" && c2.e.args[0].v, 403);
});

test("adjacent double-quoted strings join across blanks and line breaks, as in Kamailio's lexer", () => {
  const src = ['request_route { xlog("L_INFO", "a;" "b;"', '    "c");', "  sl_send_reply(200, 'x' );", "}"].join("\n");
  const cfg = parseCfg(src, "k.cfg");
  const [xlog, reply] = cfg.routes[0]?.body ?? [];
  assert.ok(xlog?.k === "expr" && xlog.e.k === "call");
  assert.deepEqual(xlog.e.args[1], { k: "str", v: "a;b;c", at: { file: "k.cfg", line: 1, col: 32 } });
  assert.ok(reply?.k === "expr" && reply.e.k === "call");
  assert.equal(reply.at.line, 3, "lines after a joined string are still counted");
  // A comment between two strings ends the joining (as in Kamailio), and single quotes never join.
  refused('request_route { xlog("L_INFO", "a" # note\n "b"); }', "ERR_CFG_SYNTAX", "2:2");
  refused("request_route { xlog('L_INFO', 'a' 'b'); }", "ERR_CFG_SYNTAX", "1:36");
});

test("syntax errors name file, line and column", () => {
  refused('request_route {\n  sl_send_reply("200", "OK")\n}', "ERR_CFG_SYNTAX", "3:1");
  refused('request_route {\n  xlog("unterminated);\n}', "ERR_CFG_SYNTAX", "2:8");
  refused("#!ifdef X\nrequest_route {}\n", "ERR_CFG_SYNTAX", "1:1");
  refused("#!endif\n", "ERR_CFG_SYNTAX", "1:1");
  refused("request_route {\n  if ($var(x) == ) exit;\n}", "ERR_CFG_SYNTAX", "2:18");
});

test("modules, functions, params and routes outside the subset are refused by name", () => {
  const e = refused('loadmodule "registrar.so"\n', "ERR_CFG_UNSUPPORTED", "1:1");
  assert.match(e.message, /module registrar/);
  assert.match(
    refused('loadmodule "sl.so"\nrequest_route {\n  save("location");\n}', "ERR_CFG_UNSUPPORTED", "3:3").message,
    /save\(\)/,
  );
  assert.match(
    refused('request_route {\n  sl_send_reply("200", "OK");\n}', "ERR_CFG_UNSUPPORTED", "2:3").message,
    /loadmodule "sl.so"/,
  );
  assert.match(
    refused('loadmodule "evapi.so"\nmodparam("evapi", "no_such", 1)\n', "ERR_CFG_UNSUPPORTED", "2:1").message,
    /no_such/,
  );
  assert.match(refused("tcp_accept_aliases=yes\n", "ERR_CFG_UNSUPPORTED", "1:1").message, /tcp_accept_aliases/);
  refused("branch_route[B] { exit; }", "ERR_CFG_UNSUPPORTED", "1:1");
  assert.match(
    refused("event_route[tm:local-request] { exit; }", "ERR_CFG_UNSUPPORTED", "1:1").message,
    /not an event evsip fires/,
  );
  assert.match(refused("event_route[evapi:message-received] { exit; }", "ERR_CFG_UNSUPPORTED", "1:1").message, /evapi\.so/);
  refused('loadmodule "tm.so"\nmodparam("tm", "fr_timer", 0)', "ERR_CONFIG_INVALID", "2:1");
  assert.match(
    refused('loadmodule "tm.so"\nmodparam("tm", "auto_inv_100", 0)', "ERR_CFG_UNSUPPORTED", "2:1").message,
    /always sends/,
  );
  refused('loadmodule "evapi.so"\nmodparam("evapi", "max_clients", "many")', "ERR_CONFIG_INVALID", "2:1");
  refused('loadmodule "tm.so"\nmodparam("tm", "auto_inv_100_reason", "")', "ERR_CONFIG_INVALID", "2:1");
  refused('loadmodule "tm.so"\nmodparam("tm", "auto_inv_100_reason", "a\\r\\nX-Injected: 1")', "ERR_CONFIG_INVALID", "2:1");
  // U+010A would go out as a LF (the reply is written as latin1).
  refused(
    'loadmodule "tm.so"\nmodparam("tm", "auto_inv_100_reason", "Wait\u010d\u010aX-Injected: 1")',
    "ERR_CONFIG_INVALID",
    "2:1",
  );
  refused('#!substdef "/a/b/"\n', "ERR_CFG_UNSUPPORTED", "1:1");
  refused('#!include_file "no-such-file.cfg"\n', "ERR_CFG_INCLUDE", "1:1");
  refused('loadmodule "tm.so"\nrequest_route { t_on_reply("NOPE"); }', "ERR_CFG_SYNTAX", "2:28");
  refused('loadmodule "xlog.so"\nrequest_route {\n  xlog("L_INFO", "$TSX\\n");\n}', "ERR_PV_UNKNOWN", "3:18");
});

test("ignored globals give a note; listen maps to evsip listeners", () => {
  const r = loadCfgText("children=8\nlisten=udp:127.0.0.1:5070\nlisten=127.0.0.2\nport=5080\ndebug=3\n", "k.cfg");
  assert.deepEqual(r.app.listen, ["udp:127.0.0.1:5070", "udp:127.0.0.2:5080", "tcp:127.0.0.2:5080"]);
  assert.equal(r.app.logLevel, "debug");
  assert.deepEqual(r.notes, ["k.cfg:1: children ignored (one Node process serves every listener)"]);
  const tm = loadCfgText('loadmodule "tm.so"\nmodparam("tm", "auto_inv_100", 1)\n', "k.cfg");
  assert.deepEqual(tm.notes, ["k.cfg:2: auto_inv_100 = 1: the 100 Trying waits tm.trying100Delay (100 ms) for another response"]);
  const reason = loadCfgText('loadmodule "tm.so"\nmodparam("tm", "auto_inv_100_reason", "Wait, please")\n', "k.cfg");
  assert.deepEqual(reason.app.tm, { trying100Reason: "Wait, please" });
  const remap = (v: string): unknown =>
    loadCfgText(`loadmodule "tm.so"\nmodparam("tm", "remap_503_500", ${v})\n`, "k.cfg").app.tm;
  assert.deepEqual(
    [remap("0"), remap("1"), remap("2"), remap('"0"')],
    [{ remap503: false }, { remap503: true }, { remap503: true }, { remap503: false }],
  );
  assert.throws(() => remap('"yes"'), { code: "ERR_CFG_UNSUPPORTED" });
});

/** Hostile inputs: each must end in a CfgError, never another exception or a hang. */
const HOSTILE = [
  "{",
  "}",
  "request_route {",
  "request_route " + "{ if (1) ".repeat(5000),
  "request_route { $var(x) = " + "(".repeat(5000) + "1" + ")".repeat(5000) + "; }",
  "request_route { $var(x) = " + "!".repeat(50_000) + "1; }",
  'request_route { xlog("' + "\\".repeat(10_001) + '"); }',
  "#!define A A\nrequest_route { A; }",
  "#!define A B\n#!define B A\nrequest_route { A; }",
  "#!ifdef\n",
  "#!" + "x".repeat(100_000),
  "/* never closed",
  "request_route { $(var(x){s.len ; }",
  "request_route { $ ; }",
  "request_route { $var(x)[ ; }",
  "route[",
  "event_route[] {}",
  "modparam(",
  'modparam("a", "b", -"c")',
  "loadmodule tm",
  "x=",
  "\u0000\u0001\u00ff",
  "request_route { switch ($rU) { case: } }",
  "request_route { while (1) }",
  "request_route { 0x; }",
  "request_route { route(NOPE); }",
  "request_route { return(; }",
];

test("a hostile corpus ends in CfgError, nothing else", () => {
  for (const src of HOSTILE) {
    assert.throws(
      () => loadCfgText(src, "k.cfg"),
      (e: unknown) => e instanceof CfgError,
      `input: ${JSON.stringify(src.slice(0, 80))}`,
    );
  }
});

const cfgAlphabet = fc.constantFrom(
  ..."request_route route event_route[a:b] if else while switch case default break return exit drop { } ( ) [ ] ; , : = == != =~ && || ! + - \" ' $var(x) $rU $(var(x){s.len}) #!define #!ifdef #!else #!endif X 1 0x1f \n # /* */ sl_send_reply xlog loadmodule modparam".split(
    " ",
  ),
);

test("property: any token soup parses or ends in a CfgError", () => {
  fc.assert(
    fc.property(fc.array(cfgAlphabet, { maxLength: 60 }), (parts) => {
      const src = parts.join(" ");
      try {
        loadCfgText(src, "k.cfg");
      } catch (e) {
        if (!(e instanceof CfgError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});

test("property: arbitrary text parses or ends in a CfgError", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200, unit: "binary" }), (src) => {
      try {
        parseCfg(src, "k.cfg");
      } catch (e) {
        if (!(e instanceof CfgError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});
