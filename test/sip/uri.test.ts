// parseUri: sip/sips/tel/urn, userinfo, IPv6 references, ports, params, headers, and rejections.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatUri, parseUri } from "../../src/sip/uri.js";

test("sip URI with user, password, port, params and headers", () => {
  const u = parseUri("sip:alice:secret@atlanta.example.com:5070;transport=tcp;lr?subject=project%20x&priority=urgent");
  assert.ok(u);
  assert.equal(u.scheme, "sip");
  assert.equal(u.user, "alice");
  assert.equal(u.password, "secret");
  assert.equal(u.host, "atlanta.example.com");
  assert.equal(u.port, 5070);
  assert.deepEqual(
    [...u.params],
    [
      ["transport", "tcp"],
      ["lr", null],
    ],
  );
  assert.deepEqual(
    [...u.headers],
    [
      ["subject", "project%20x"],
      ["priority", "urgent"],
    ],
  );
});

test("scheme and param names are case-insensitive, values kept", () => {
  const u = parseUri("SIPS:Bob@Biloxi.Example.COM;Transport=TLS");
  assert.equal(u?.scheme, "sips");
  assert.equal(u?.host, "Biloxi.Example.COM");
  assert.equal(u?.params.get("transport"), "TLS");
});

test("IPv6 references keep their brackets", () => {
  const u = parseUri("sip:[2001:db8::10]:5060");
  assert.equal(u?.host, "[2001:db8::10]");
  assert.equal(u?.port, 5060);
  assert.equal(parseUri("sip:user@[::ffff:192.0.2.1]")?.host, "[::ffff:192.0.2.1]");
  assert.equal(parseUri("sip:user@[2001:db8::10"), undefined);
  assert.equal(parseUri("sip:user@[]"), undefined);
});

test("escapes stay as written; broken escapes are rejected", () => {
  assert.equal(parseUri("sip:sips%3Auser%40example.com@example.net")?.user, "sips%3Auser%40example.com");
  assert.equal(parseUri("sip:user%4@example.com"), undefined);
});

test("user part may carry ';' before the '@'", () => {
  const u = parseUri("sip:user;par=u%40example.net@example.com");
  assert.equal(u?.user, "user;par=u%40example.net");
  assert.equal(u?.host, "example.com");
});

test("tel URI", () => {
  const u = parseUri("tel:+1-201-555-0123;phone-context=example.com");
  assert.equal(u?.scheme, "tel");
  assert.equal(u?.user, "+1-201-555-0123");
  assert.equal(u?.host, "");
  assert.equal(u?.params.get("phone-context"), "example.com");
});

test("urn URI: the namespace as the user part, the rest as the host, as Kamailio's $rU and $rd", () => {
  const u = parseUri("urn:service:sos");
  assert.equal(u?.scheme, "urn");
  assert.equal(u?.user, "service");
  assert.equal(u?.host, "sos");
  assert.equal(u?.port, undefined);
  const p = parseUri("URN:Service:sos.police;x=1");
  assert.equal(p?.scheme, "urn");
  assert.equal(p?.user, "Service");
  assert.equal(p?.host, "sos.police");
  assert.equal(p?.params.get("x"), "1");
  assert.equal(parseUri("urn:ietf:params:xml:ns:pidf")?.host, "params:xml:ns:pidf", "the NSS may hold colons");
  assert.equal(parseUri("urn:ex:a@b/c%41?=q")?.host, "a@b/c%41?=q", "an @, a / past the first character, escapes, a q-component");
  for (const bad of [
    "urn:",
    "urn:service",
    "urn:service:",
    "urn::sos",
    "urn:a:b",
    "urn:-x:y",
    "urn:ab-:x",
    "urn:ser vice:sos",
    "urn:service:s os",
    "urn:ex:/a",
    "urn:ex:a%4",
    "urn:ex:a<b",
    `urn:${"n".repeat(33)}:x`,
    "urn:service:sos;",
  ]) {
    assert.equal(parseUri(bad), undefined, bad);
  }
});

test("urn URIs: any valid namespace and string parse, keep their parts and render back (property)", () => {
  const alnum = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
  const nid = fc
    .tuple(alnum, fc.array(fc.oneof(alnum, fc.constant("-")), { maxLength: 30 }), alnum)
    .map(([a, mid, z]) => a + mid.join("") + z);
  const nss = fc
    .tuple(alnum, fc.array(fc.oneof(alnum, fc.constantFrom(...":.-_~!$&'()*+,=/@")), { maxLength: 40 }))
    .map(([a, rest]) => a + rest.join(""));
  fc.assert(
    fc.property(nid, nss, (n, s) => {
      const text = `urn:${n}:${s}`;
      const u = parseUri(text);
      assert.equal(u?.user, n);
      assert.equal(u?.host, s);
      assert.equal(formatUri(u ?? assert.fail(text)), text);
    }),
  );
});

test("rejects unknown schemes and malformed text", () => {
  for (const bad of [
    "http://example.com",
    "isbn:2983792873",
    "sip:",
    "sip:@host",
    "sip:host:99999",
    "sip:host:",
    "sip:ho st",
    "<sip:a@b>",
    "sip:a@b;",
    "sip:a@b?x",
    "",
    ":",
  ]) {
    assert.equal(parseUri(bad), undefined, bad);
  }
});

test("formatUri renders what parseUri read", () => {
  for (const s of [
    "sip:alice@a.example.com:5070;transport=tcp;lr",
    "sips:[2001:db8::1]",
    "tel:+123;ext=4",
    "sip:a:pw@h?x=1&y=2",
    "urn:service:sos.fire;lr",
  ]) {
    assert.equal(formatUri(parseUri(s) ?? assert.fail(s)), s);
  }
});

test("hostile text after urn: never throws; what parses has a 2–32 character NID and a non-empty NSS (property)", () => {
  const chars = fc.constantFrom(..."aZ09-:;@/?#%.=<> \t\r\n\u0000\u00ff");
  fc.assert(
    fc.property(fc.array(chars, { maxLength: 60 }), (a) => {
      const u = parseUri(`urn:${a.join("")}`);
      if (u === undefined) return;
      assert.ok((u.user ?? "").length >= 2 && (u.user ?? "").length <= 32, u.raw);
      assert.ok(u.host.length > 0 && !/[\s<>\u0000]/.test(u.host), u.raw);
    }),
    { numRuns: 2000 },
  );
});
