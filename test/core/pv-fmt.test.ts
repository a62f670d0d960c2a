// Pseudo-variables and format strings against a real parsed message, without sockets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { routeContext } from "../support/route-context.js";
import { retainedPerItem, slicedCallId } from "../support/retained.js";

const INVITE =
  "INVITE sip:bob@example.com:5070;transport=udp SIP/2.0\r\n" +
  "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds\r\n" +
  "Max-Forwards: 70\r\n" +
  'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774\r\n' +
  "To: <sip:bob@example.com>\r\n" +
  "Call-ID: a84b4c76e66710@pc33\r\n" +
  "CSeq: 314159 INVITE\r\n" +
  "User-Agent: evsip-test\r\n" +
  "X-Account: 42\r\n" +
  "Content-Length: 0\r\n\r\n";

const ctx = (): ReturnType<typeof routeContext> => routeContext(INVITE);

test("core pseudo-variables read the message and the source", () => {
  const c = ctx();
  const want: Record<string, unknown> = {
    $rm: "INVITE",
    $ru: "sip:bob@example.com:5070;transport=udp",
    $rU: "bob",
    $rd: "example.com",
    $rp: 5070,
    $fu: "sip:alice@atlanta.example.com",
    $fU: "alice",
    $fd: "atlanta.example.com",
    $ft: "1928301774",
    $fn: '"Alice"',
    $tu: "sip:bob@example.com",
    $tU: "bob",
    $td: "example.com",
    $tt: null,
    $ci: "a84b4c76e66710@pc33",
    $cs: 314159,
    $si: "10.0.0.1",
    $sp: 5062,
    $Ri: "127.0.0.1",
    $Rp: 5060,
    $pr: "udp",
    $ua: "evsip-test",
    $du: null,
    "$hdr(X-Account)": "42",
    "$hdr(x-account)": "42",
    "$hdr(X-Missing)": null,
  };
  for (const [name, value] of Object.entries(want)) assert.equal(c.pv(name), value, name);
});

test("writable pseudo-variables change the Request-URI and destination", () => {
  const c = ctx();
  c.setPv("$rU", "carol");
  assert.equal(c.pv("$ru"), "sip:carol@example.com:5070;transport=udp");
  c.setPv("$rd", "10.1.1.1");
  c.setPv("$rp", 5080);
  assert.equal(c.pv("$ru"), "sip:carol@10.1.1.1:5080;transport=udp");
  c.setPv("$du", "sip:192.0.2.1:5060");
  assert.equal(c.pv("$du"), "sip:192.0.2.1:5060");
  c.setPv("$var(x)", 5);
  assert.equal(c.pv("$var(x)"), 5);
  c.setPv("$shv(total)", "7");
  assert.equal(ctx().pv("$shv(total)"), null, "another engine has its own $shv");
  assert.equal(c.pv("$shv(total)"), "7");
  assert.throws(() => c.setPv("$fU", "x"), { code: "ERR_PV_READONLY" });
  assert.throws(() => c.pv("$nope"), { code: "ERR_PV_UNKNOWN" });
});

test("a URI written to $ru, $rU, $rd, $rp or $du must parse: text cannot break the request line", () => {
  const c = ctx();
  const before = c.pv("$ru");
  const evil = ["sip:bob@example.com SIP/2.0\r\nX-Injected: 1", "sip:bob@example.com\u010aX-Injected: 1", "http://x", ""];
  for (const v of evil) {
    assert.throws(() => c.setPv("$ru", v), { code: "ERR_SIP_BAD_URI" }, JSON.stringify(v));
    if (v !== "") assert.throws(() => c.setPv("$du", v), { code: "ERR_SIP_BAD_URI" }, JSON.stringify(v));
  }
  assert.throws(() => c.setPv("$rU", "bob\r\nX-Injected: 1"), { code: "ERR_SIP_BAD_URI" });
  assert.throws(() => c.setPv("$rd", "example.com\r\nX-Injected: 1"), { code: "ERR_SIP_BAD_URI" });
  assert.equal(c.pv("$ru"), before, "a refused write changes nothing");
  assert.equal(c.pv("$du"), null);
  c.setPv("$du", "");
  assert.equal(c.pv("$du"), null, "an empty $du clears it, as before");
  c.setPv("$ru", "tel:+15551234");
  assert.equal(c.pv("$ru"), "tel:+15551234");
});

test("a urn: or tel: Request-URI: its parts written as parseUri reads them; no port, and no $du to it", () => {
  const c = ctx();
  c.setPv("$ru", "urn:service:sos;x=1");
  assert.deepEqual([c.pv("$rz"), c.pv("$rU"), c.pv("$rd")], ["urn", "service", "sos"]);
  c.setPv("$rd", "sos.police");
  assert.equal(c.pv("$ru"), "urn:service:sos.police;x=1", "$rd is the namespace-specific string");
  c.setPv("$rU", "other");
  assert.equal(c.pv("$ru"), "urn:other:sos.police;x=1", "$rU the namespace");
  assert.throws(() => c.setPv("$rp", 5080), { code: "ERR_SIP_BAD_URI" }, "a urn: has no port");
  assert.throws(() => c.setPv("$rU", "x"), { code: "ERR_SIP_BAD_URI" }, "a one-letter namespace is no NID");
  assert.equal(c.pv("$ru"), "urn:other:sos.police;x=1", "the refused writes changed nothing");
  c.setPv("$ru", "tel:+15551234;phone-context=example.com");
  c.setPv("$rU", "+15559999");
  assert.equal(c.pv("$ru"), "tel:+15559999;phone-context=example.com");
  assert.throws(() => c.setPv("$rd", "example.com"), { code: "ERR_SIP_BAD_URI" }, "a tel: has no host");
  for (const v of ["urn:service:sos", "tel:+15551234"]) assert.throws(() => c.setPv("$du", v), { code: "ERR_SIP_BAD_URI" }, v);
});

test("fmt expands PVs, nested PV arguments and escapes", () => {
  const c = ctx();
  c.setPv("$var(h)", "X-Account");
  assert.equal(c.fmt("call $fU -> $rU ($si:$sp)"), "call alice -> bob (10.0.0.1:5062)");
  assert.equal(c.fmt("acct=$hdr($var(h))"), "acct=42");
  assert.equal(c.fmt("cost \\$5, tag $tt"), "cost $5, tag <null>");
  assert.equal(c.fmt("cost $$5, 5 $ each"), "cost $5, 5 $ each");
  assert.throws(() => c.fmt("unknown $nope"), { code: "ERR_PV_UNKNOWN" });
  assert.throws(() => c.fmt("sent $TSX"), { code: "ERR_PV_UNKNOWN" });
  assert.throws(() => c.fmt("from $fU."), /unknown pseudo-variable \$fU\. .*write \$\(fU\) before it/);
  assert.equal(c.fmt("from $(fU)."), "from alice.");
  assert.equal(c.fmt("$(fU) and $(hdr(X-Account))"), "alice and 42");
});

test("hasToTag and isMethod", () => {
  const c = ctx();
  assert.equal(c.hasToTag(), false);
  assert.equal(c.isMethod("BYE", "INVITE"), true);
  assert.equal(c.isMethod("invite"), false);
});

test("$shv keeps a value read from a message without the message's head", () => {
  const c = ctx();
  const perValue = retainedPerItem(2000, (i) => c.setPv(`$shv(call${i})`, slicedCallId(i)));
  assert.equal(c.pv("$shv(call7)"), slicedCallId(7));
  assert.ok(perValue < 1000, `${perValue} B held per $shv value (a kept slice holds its 4 KB head)`);
});
