// SipMessage getters: typed values, caching, coded errors on malformed headers, and validate().
import { test } from "node:test";
import assert from "node:assert/strict";
import { SipParseError } from "../../src/errors.js";
import { inviteHeaders, messageText, parseOk } from "../support/sip-text.js";

function withHeader(name: string, value: string | undefined, start = "INVITE sip:bob@biloxi.example.com SIP/2.0"): string {
  const h = inviteHeaders().filter(([n]) => n !== name);
  if (value !== undefined) h.push([name, value]);
  return messageText(start, h);
}

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof SipParseError && e.code === code);
}

test("typed getters of a typical INVITE", () => {
  const m = parseOk(withHeader("User-Agent", "softphone/1.0"));
  assert.equal(m.uri.user, "bob");
  assert.equal(m.from.displayName, "Alice");
  assert.equal(m.from.tag, "1928301774");
  assert.equal(m.to.tag, undefined);
  assert.equal(m.callId, "a84b4c76e66710@pc33.atlanta.example.com");
  assert.deepEqual(m.cseq, { seq: 314159, method: "INVITE" });
  assert.equal(m.topVia.branch, "z9hG4bK776asdhds");
  assert.equal(m.topVia.rport, null);
  assert.equal(m.vias.length, 1);
  assert.equal(m.maxForwards, 70);
  assert.equal(m.contact?.uri.host, "pc33.atlanta.example.com");
  assert.equal(m.userAgent, "softphone/1.0");
  assert.deepEqual(m.routes, []);
  assert.deepEqual(m.recordRoutes, []);
  assert.equal(m.from, m.from, "cached");
  assert.deepEqual(m.validate(), { ok: true });
});

test("missing headers throw ERR_SIP_MISSING_HEADER; optional ones are undefined", () => {
  throwsCode(() => parseOk(withHeader("From", undefined)).from, "ERR_SIP_MISSING_HEADER");
  throwsCode(() => parseOk(withHeader("CSeq", undefined)).cseq, "ERR_SIP_MISSING_HEADER");
  throwsCode(() => parseOk(withHeader("Via", undefined)).topVia, "ERR_SIP_MISSING_HEADER");
  assert.equal(parseOk(withHeader("Max-Forwards", undefined)).maxForwards, undefined);
  assert.equal(parseOk(withHeader("Contact", undefined)).contact, undefined);
});

test("malformed headers throw their code", () => {
  throwsCode(() => parseOk(withHeader("To", "<sip:a@b")).to, "ERR_SIP_BAD_NAME_ADDR");
  throwsCode(() => parseOk(withHeader("Via", "SIP/2.0/UDP")).vias, "ERR_SIP_BAD_VIA");
  throwsCode(() => parseOk(withHeader("CSeq", "x INVITE")).cseq, "ERR_SIP_BAD_CSEQ");
  throwsCode(() => parseOk(withHeader("Max-Forwards", "abc")).maxForwards, "ERR_SIP_BAD_HEADER");
  throwsCode(() => parseOk(withHeader("Call-ID", "")).callId, "ERR_SIP_BAD_HEADER");
  throwsCode(() => parseOk(messageText("FOO bar:baz SIP/2.0", inviteHeaders())).uri, "ERR_SIP_BAD_URI");
  throwsCode(() => parseOk(messageText("SIP/2.0 200 OK", inviteHeaders())).uri, "ERR_SIP_BAD_URI");
});

test("validate() returns the code instead of throwing", () => {
  assert.equal(parseOk(withHeader("Call-ID", undefined)).validate().ok, false);
  const v = parseOk(withHeader("CSeq", "1 BYE")).validate();
  assert.deepEqual(v.ok ? "" : v.code, "ERR_SIP_CSEQ_METHOD_MISMATCH");
  const r = parseOk(messageText("SIP/2.0 180 Ringing", inviteHeaders())).validate();
  assert.deepEqual(r, { ok: true });
});

test("Contact: * and contact lists", () => {
  const star = parseOk(
    withHeader("Contact", "*", "REGISTER sip:registrar.example.com SIP/2.0").replace("314159 INVITE", "1 REGISTER"),
  );
  assert.equal(star.isContactStar, true);
  assert.equal(star.contact, undefined);
  assert.deepEqual(star.contacts, []);
  const two = parseOk(withHeader("Contact", '<sip:a@h1>;expires=60, "B" <sip:b@h2>;q=0.5'));
  assert.deepEqual(
    two.contacts.map((c) => c.uri.user),
    ["a", "b"],
  );
  assert.equal(two.contacts[1]?.params.get("q"), "0.5");
});

test("an empty list header line has no values; a single value needs no split", () => {
  const m = parseOk(withHeader("Contact", ""));
  assert.deepEqual(m.headerValues("contact"), []);
  assert.deepEqual(m.contacts, []);
  assert.deepEqual(parseOk(withHeader("Supported", "timer")).headerValues("supported"), ["timer"]);
  assert.deepEqual(parseOk(withHeader("Supported", "timer ,, 100rel")).headerValues("k"), ["timer", "100rel"]);
  assert.deepEqual(parseOk(withHeader("Subject", "a, b")).headerValues("subject"), ["a, b"], "not a list header");
});

test("Via lists across lines, top first", () => {
  const m = parseOk(
    messageText("SIP/2.0 200 OK", [
      ["Via", "SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com;branch=z9hG4bK2"],
      ["v", "SIP/2.0/TLS c.example.com;branch=z9hG4bK3"],
      ...inviteHeaders().filter(([n]) => n !== "Via"),
    ]),
  );
  assert.deepEqual(
    m.vias.map((v) => v.host),
    ["a.example.com", "b.example.com", "c.example.com"],
  );
  assert.deepEqual(m.headerLines("via").length, 2);
});
