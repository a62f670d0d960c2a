// The pseudo-variables real Kamailio configs use, on a real parsed message: time, message,
// network, $env, $avp/$xavp with Kamailio's list semantics, and the names evsip refuses with a reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { routeContext, SAMPLE_INVITE } from "../support/route-context.js";

test("time: $TS now, $Ts and $TV(s|u) fixed for the run, $TV(Sn|Fn), $time and $utime fields", () => {
  const c = routeContext();
  const before = Math.floor(Date.now() / 1000);
  const ts = c.pv("$Ts") as number;
  assert.ok(ts >= before && ts <= before + 1);
  assert.equal(c.pv("$TV(s)"), ts);
  const u = c.pv("$TV(u)");
  assert.equal(c.pv("$TV(u)"), u, "the message time is taken once");
  assert.ok(Math.abs((c.pv("$TS") as number) - ts) <= 1);
  assert.match(String(c.pv("$TV(Sn)")), /^\d{10}\.\d{6}$/);
  assert.match(String(c.pv("$TV(Fn)")), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
  const d = new Date();
  assert.equal(c.pv("$utime(year)"), d.getUTCFullYear());
  assert.equal(c.pv("$utime(mon)"), d.getUTCMonth() + 1);
  assert.equal(c.pv("$time(wday)"), d.getDay() + 1);
  assert.throws(() => c.pv("$TV(x)"), { code: "ERR_PV_UNKNOWN" });
  assert.throws(() => c.pv("$time(week)"), { code: "ERR_PV_UNKNOWN" });
});

test("message and network pseudo-variables", () => {
  const text = SAMPLE_INVITE.replace(
    "X-Account: 42\r\n",
    'X-Account: 42\r\nP-Asserted-Identity: "A" <sip:+15551234@pai.example>\r\nDiversion: <tel:+15550000>;reason=busy\r\n',
  ).replace("To: <sip:bob@example.com>", "To: Bob <sip:bob@example.com>");
  const c = routeContext(text);
  assert.equal(c.pv("$ml"), Buffer.byteLength(text));
  assert.equal(c.pv("$rb"), "v=0\n");
  assert.equal(c.pv("$cT"), "application/sdp");
  assert.equal(c.pv("$cl"), 4);
  assert.equal(c.pv("$ai"), "sip:+15551234@pai.example");
  assert.equal(c.pv("$di"), "tel:+15550000");
  assert.equal(c.pv("$fn"), '"Alice A."', "as written, quotes kept (Kamailio 5.6)");
  assert.equal(c.pv("$tn"), "Bob");
  assert.equal(c.pv("$rz"), "sip");
  c.setPv("$ru", "sips:bob@example.com");
  assert.equal(c.pv("$rz"), "sips");
  assert.equal(c.pv("$RAi"), "127.0.0.1");
  assert.equal(c.pv("$Rn"), null);
  assert.equal(c.pv("$(hdr(X-Account)[1])"), "43");
  assert.equal(c.pv("$hdrc(X-Account)"), 2);
  process.env.EVSIP_TEST_ENV = "here";
  assert.equal(c.pv("$env(EVSIP_TEST_ENV)"), "here");
  delete process.env.EVSIP_TEST_ENV;
  assert.equal(c.pv("$env(EVSIP_TEST_ENV)"), null);
  assert.equal(routeContext().pv("$ai"), null);
});

test("names with no meaning in evsip are refused with the reason", () => {
  const c = routeContext();
  for (const spec of ["$snd(ip)", "$sndto(port)", "$ruid", "$bs", "$sel(via[1].host)"]) {
    assert.throws(
      () => c.pv(spec),
      (e: Error & { code?: string }) => e.code === "ERR_PV_UNSUPPORTED" && / not supported in evsip: ./.test(e.message),
    );
  }
  assert.throws(() => c.fmt("to $snd(ip)"), { code: "ERR_PV_UNSUPPORTED" });
});

test("$avp: assigning adds on top, null removes the newest, [*] reads and clears all", () => {
  const c = routeContext();
  assert.equal(c.pv("$avp(x)"), null);
  c.setPv("$avp(x)", "a");
  c.setPv("$avp(s:x)", 2);
  c.setPv("$avp(x)", "c");
  assert.equal(c.pv("$avp(x)"), "c");
  assert.equal(c.pv("$(avp(x)[0])"), "c");
  assert.equal(c.pv("$(avp(x)[2])"), "a");
  assert.equal(c.pv("$(avp(x)[-1])"), "a");
  assert.equal(c.pv("$(avp(x)[*])"), "c, 2, a");
  c.setPv("$avp(x)", null);
  assert.equal(c.pv("$(avp(x)[*])"), "2, a");
  c.setPv("$(avp(x)[*])", "only");
  assert.equal(c.pv("$(avp(x)[*])"), "only");
  c.setPv("$(avp(x)[*])", null);
  assert.equal(c.pv("$avp(x)"), null);
});

test("$xavp: root=>field adds an item, root[0]=>field extends it", () => {
  const c = routeContext();
  c.setPv("$xavp(sf=>uri)", "sip:a@x");
  c.setPv("$xavp(sf[0]=>fr)", 10);
  c.setPv("$xavp(sf=>uri)", "sip:b@x");
  assert.equal(c.pv("$xavp(sf=>uri)"), "sip:b@x");
  assert.equal(c.pv("$xavp(sf[1]=>uri)"), "sip:a@x");
  assert.equal(c.pv("$xavp(sf[1]=>fr)"), 10);
  assert.equal(c.pv("$xavp(sf=>fr)"), null);
  c.setPv("$xavp(sf[1]=>fr)", 20);
  assert.equal(c.pv("$(xavp(sf[1]=>fr)[*])"), "20, 10");
  c.setPv("$xavp(sf)", null);
  assert.equal(c.pv("$xavp(sf=>uri)"), "sip:a@x");
  assert.throws(() => c.pv("$xavp(a=>)"), { code: "ERR_PV_UNKNOWN" });
});
