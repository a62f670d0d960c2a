// parseNameAddr: quoted and token display names, escapes, addr-spec whose params belong to the header.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseNameAddr, quoteDisplayName } from "../../src/sip/name-addr.js";

test("quoted display name with escapes", () => {
  const n = parseNameAddr('"J Rosenberg \\\\\\"" <sip:jdrosen@example.com> ; tag = 98asjd8');
  assert.equal(n?.displayName, 'J Rosenberg \\"');
  assert.equal(n?.uri.user, "jdrosen");
  assert.equal(n?.tag, "98asjd8");
});

test("token display name, with and without space before '<'", () => {
  assert.equal(parseNameAddr("Bob  Smith <sip:bob@b.example>")?.displayName, "Bob Smith");
  assert.equal(parseNameAddr("caller<sip:caller@example.com>;tag=323")?.displayName, "caller");
  assert.equal(parseNameAddr("<sip:a@b>")?.displayName, undefined);
  assert.equal(parseNameAddr('"" <sip:a@b>')?.displayName, "");
});

test("addr-spec: parameters after the URI belong to the header", () => {
  const n = parseNameAddr("sip:alice@atlanta.example.com;tag=88sja8x;day=tuesday");
  assert.equal(n?.uri.params.size, 0);
  assert.equal(n?.tag, "88sja8x");
  assert.equal(n?.params.get("day"), "tuesday");
});

test("name-addr: URI params stay in the URI", () => {
  const n = parseNameAddr("<sip:p1.example.com;lr>;foo");
  assert.equal(n?.uri.params.get("lr"), null);
  assert.equal(n?.params.get("foo"), null);
  assert.equal(n?.tag, undefined);
});

test("an emergency call's To: the service URN, with or without angle brackets", () => {
  const a = parseNameAddr("<urn:service:sos>;tag=7");
  assert.equal(a?.uri.scheme, "urn");
  assert.equal(a?.uri.host, "sos");
  assert.equal(a?.tag, "7");
  assert.equal(parseNameAddr("urn:service:sos.police")?.uri.host, "sos.police");
});

test("rejects malformed values", () => {
  for (const bad of [
    '"unterminated <sip:a@b>',
    "<sip:a@b",
    "<http://x>",
    "",
    "   ",
    "<sip:a@b>, <sip:c@d>",
    "<sip:a@b> junk",
    'Bo"b <sip:a@b>',
  ]) {
    assert.equal(parseNameAddr(bad), undefined, bad);
  }
});

test("quoteDisplayName escapes quotes and backslashes and round trips", () => {
  const name = 'a "b" \\c';
  const n = parseNameAddr(`${quoteDisplayName(name)} <sip:x@y>`);
  assert.equal(n?.displayName, name);
});
