// The cfg language's value rules, checked against a real Kamailio 5.6: one generated cfg runs in
// Kamailio (which prints each result with xlog) and, unchanged, through evsip's loader (src/cfg)
// on a route context for the same request (which leaves each result in $var). Every condition and
// value, and the result of every statement (switch, while, route() and return), must come out the same.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/sipp.js";
import { kamailioSkipReason, startKamailio } from "../support/kamailio.js";
import { routeContext } from "../support/route-context.js";
import { loadCfgText } from "../../src/cfg/load-cfg.js";

const skip = kamailioSkipReason(["sl", "pv", "xlog", "textops", "kex"]);

const CONDITIONS = [
  '"10" == 10',
  '"abc" == "ABC"',
  '"INVITE" =~ "^inv"',
  "$var(none) == $null",
  '$var(none) == ""',
  "$var(zero) == 0",
  "2 < 10",
  "$var(s10) > $var(s9)",
  "!0",
  "$var(zero)",
  "$var(neg)",
  "$var(str)",
  '$rU == "bob"',
  '$rm == "OPTIONS" && is_method("OPTIONS|INVITE")',
  '$fU =~ "^ali" || $fU == "x"',
];

/** Statements that leave their result in $var(sN). */
const STATEMENTS = [
  "$var(w) = 0; while ($var(w) < 5) { $var(w) = $var(w) + 1; } $var(s0) = $var(w);",
  '$var(s1) = ""; switch ($rU) { case "alice": $var(s1) = "a"; case "bob": $var(s1) = $var(s1) + "b"; case "carol": $var(s1) = $var(s1) + "c"; break; default: $var(s1) = $var(s1) + "d"; }',
  '$var(s2) = "none"; switch ($var(zero)) { case 1: $var(s2) = "one"; break; default: $var(s2) = "default"; }',
  "$var(s3) = 0; if (route(NEG)) { $var(s3) = 1; } if (route(POS)) { $var(s3) = $var(s3) + 10; }",
  "$var(s4) = 0; route(LOOP);",
  // $rc, $retcode, $?: the last module function's or route()'s value; core actions and assignments leave it.
  'is_method("BYE"); $var(s5) = $rc;',
  'is_method("OPTIONS"); $var(s6) = $retcode;',
  "route(NEG); $var(s7) = $?;",
  'is_method("BYE"); setflag(1); isflagset(2); $var(x) = 1; $var(s8) = $rc;',
  'if (!is_method("BYE")) { $var(s9) = $rc; }',
  // A route that ends without return gives the last statement's value: a call's, 1 for an if that ran nothing, 0 after break.
  "route(LAST); $var(s10) = $rc;",
  '$var(s11) = "f"; if (route(LAST)) { $var(s11) = "t"; }',
  "route(IFEND); $var(s12) = $rc;",
  "route(SWBRK); $var(s13) = $rc;",
  "route(ASSIGN); $var(s14) = $rc;",
  'route(POS); xlog("L_ERR", "x"); $var(s15) = $rc;',
  // A runaway while: how many rounds run before max_while_loops (100) stops it, and what it leaves.
  "$var(s16) = 0; while (1) { $var(s16) = $var(s16) + 1; }",
  "route(RUNAWAY); $var(s17) = $rc;",
];

const ROUTES = [
  "route[NEG] { return -2; }",
  "route[POS] { return 3; }",
  "route[LOOP] { while (1) { $var(s4) = $var(s4) + 1; if ($var(s4) >= 3) { return 1; } } }",
  'route[LAST] { $var(t) = 1; is_method("BYE"); }',
  'route[IFEND] { is_method("BYE"); if ($var(zero)) { $var(t) = 2; } }',
  "route[SWBRK] { switch ($var(zero)) { case 0: $var(t) = 3; break; default: $var(t) = 4; } }",
  'route[ASSIGN] { is_method("BYE"); $var(t) = 5; }',
  "route[RUNAWAY] { while (1) { $var(t) = 6; } }",
];

const VALUES = ["5 + 3 * 2", '"a" + 1', "-(2 - 5) mod 2", "7 / 2", "10 - 3 - 2", '"x" + $rU', "$var(zero) + 1"];

function cfg(): string {
  const lines = [
    "#!KAMAILIO",
    "debug=1",
    "log_stderror=yes",
    ...["sl", "pv", "xlog", "textops", "kex"].map((m) => `loadmodule "${m}.so"`),
    "request_route {",
    "  $var(zero) = 0;",
    "  $var(neg) = -1;",
    '  $var(str) = "abc";',
    '  $var(s10) = "10";',
    '  $var(s9) = "9";',
  ];
  CONDITIONS.forEach((c, i) => {
    lines.push(`  if (${c}) { $var(c${i}) = 1; } else { $var(c${i}) = 0; }`, `  xlog("L_ERR", "C|${i}|$var(c${i})|END\\n");`);
  });
  VALUES.forEach((v, i) => lines.push(`  $var(v${i}) = ${v};`, `  xlog("L_ERR", "V|${i}|$var(v${i})|END\\n");`));
  STATEMENTS.forEach((st, i) => lines.push(`  ${st}`, `  xlog("L_ERR", "S|${i}|$var(s${i})|END\\n");`));
  lines.push("#!ifdef REPLY", '  sl_send_reply("200", "OK");', "#!endif", "}", ...ROUTES);
  return lines.join("\n");
}

function request(port: number, local: number): string {
  return (
    `OPTIONS sip:bob@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bKcfg1\r\nMax-Forwards: 70\r\n` +
    "From: <sip:alice@a.example>;tag=f1\r\nTo: <sip:bob@b.example>\r\nCall-ID: cfg-cmp-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
  );
}

test("Kamailio 5.6 and evsip's cfg loader refuse the same constant type mismatch and unknown operator", () => {
  assert.throws(() => loadCfgText('request_route { if (10 == "10") exit; }', "t.cfg"), /type mismatch/);
  assert.throws(() => loadCfgText('request_route { if ("b" > "a") exit; }', "t.cfg"), /type mismatch/);
  assert.throws(() => loadCfgText('request_route { if ("a" !~ "b") exit; }', "t.cfg"), /unexpected character/);
  assert.throws(() => loadCfgText("request_route { $var(x) = 5 % 2; }", "t.cfg"), /unexpected character/);
});

test(
  "Kamailio 5.6 and evsip's cfg loader give the same conditions, values, switch fall-through, while and route() returns for one cfg",
  { skip },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "evsip-cfg-cmp-"));
    const port = await freePort();
    const sock = createSocket("udp4");
    try {
      const text = cfg();
      writeFileSync(join(dir, "cmp.cfg"), text);
      const k = await startKamailio(join(dir, "cmp.cfg"), port, { REPLY: "1" });
      try {
        sock.bind(0, "127.0.0.1");
        await once(sock, "listening");
        const req = request(port, sock.address().port);
        const answered = once(sock, "message");
        sock.send(req, port, "127.0.0.1");
        assert.match(String((await answered)[0]), /^SIP\/2\.0 200/);
        const kam = new Map<string, string>();
        for (const m of k.log().matchAll(/<script>: ([CVS]\|\d+)\|(.*)\|END/g)) kam.set(m[1] as string, m[2] as string);
        const { app } = loadCfgText(text, "cmp.cfg");
        const c = routeContext(req);
        void app.request?.(c as never);
        const evsip = [...CONDITIONS.map((cond, i) => `if (${cond}) → ${String(c.pv(`$var(c${i})`))}`)];
        evsip.push(...VALUES.map((v, i) => `${v} → ${c.fmt(`$var(v${i})`)}`));
        evsip.push(...STATEMENTS.map((st, i) => `${st} → ${c.fmt(`$var(s${i})`)}`));
        const kamailio = [...CONDITIONS.map((cond, i) => `if (${cond}) → ${kam.get(`C|${i}`)}`)];
        kamailio.push(...VALUES.map((v, i) => `${v} → ${kam.get(`V|${i}`)}`));
        kamailio.push(...STATEMENTS.map((st, i) => `${st} → ${kam.get(`S|${i}`)}`));
        assert.deepEqual(evsip, kamailio);
      } finally {
        await k.stop();
      }
    } finally {
      sock.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
