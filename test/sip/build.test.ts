// buildResponse, buildCancel, buildAckForNon2xx (RFC 3261 §8.2.6, §9.1, §17.1.1.3) and id generation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildResponse } from "../../src/sip/build-response.js";
import { buildAckForNon2xx, buildCancel } from "../../src/sip/build-request.js";
import { IdGenerator, generateBranch, generateTag } from "../../src/sip/ids.js";
import { inviteHeaders, messageText, parseOk } from "../support/sip-text.js";

const INVITE = messageText("INVITE sip:bob@biloxi.example.com SIP/2.0", [
  ["Via", "SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1, SIP/2.0/UDP a.example.com;branch=z9hG4bKa"],
  ["Via", "SIP/2.0/UDP b.example.com;branch=z9hG4bKb"],
  ["Route", "<sip:r1.example.com;lr>"],
  ["Record-Route", "<sip:p1.example.com;lr>"],
  ...inviteHeaders().filter(([n]) => n !== "Via"),
]);

test("response copies Vias, From, To (+tag), Call-ID, CSeq", () => {
  const req = parseOk(INVITE);
  const res = parseOk(buildResponse(req, 486, "Busy Here", { toTag: "t1", headers: ["Retry-After: 60"] }));
  assert.equal(res.status, 486);
  assert.equal(res.reason, "Busy Here");
  assert.deepEqual(
    res.vias.map((v) => v.branch),
    ["z9hG4bKp1", "z9hG4bKa", "z9hG4bKb"],
  );
  assert.equal(res.headerLines("via").length, 2);
  assert.equal(res.from.tag, "1928301774");
  assert.equal(res.to.tag, "t1");
  assert.equal(res.callId, req.callId);
  assert.deepEqual(res.cseq, req.cseq);
  assert.equal(res.header("server"), "evsip");
  assert.equal(res.header("retry-after"), "60");
  assert.equal(res.hasHeader("record-route"), false);
  assert.equal(res.contentLength, 0);
  assert.deepEqual(res.validate(), { ok: true });
});

test("app text cannot add a header line: CR, LF and characters written as one become a space", () => {
  const req = parseOk(INVITE);
  for (const evil of ["Busy\r\nX-Injected: 1", "Busy\u010d\u010aX-Injected: 1", "Busy\u020aX-Injected: 1"]) {
    const wire = buildResponse(req, 486, evil, { headers: [`X-Ok: a${evil.slice(4)}`], server: `s${evil.slice(4)}` });
    const lines = wire.toString("latin1").split("\r\n");
    assert.equal(lines.filter((l) => /^x-injected/i.test(l)).length, 0, JSON.stringify(evil));
    assert.equal(lines.filter((l) => l.includes("\n") || l.includes("\r")).length, 0);
    assert.equal(lines[0], "SIP/2.0 486 Busy X-Injected: 1");
  }
});

test("an existing To tag is kept; Record-Route copied only for 1xx/2xx when asked; body", () => {
  const req = parseOk(INVITE.replace("To: Bob <sip:bob@biloxi.example.com>", "To: Bob <sip:bob@biloxi.example.com>;tag=old"));
  const ok = parseOk(
    buildResponse(req, 200, "OK", { toTag: "new", copyRecordRoute: true, body: "v=0\r\n", contentType: "application/sdp" }),
  );
  assert.equal(ok.to.tag, "old");
  assert.equal(ok.recordRoutes[0]?.uri.host, "p1.example.com");
  assert.equal(ok.header("content-type"), "application/sdp");
  assert.equal(ok.body.toString(), "v=0\r\n");
  const busy = parseOk(buildResponse(req, 486, "Busy", { copyRecordRoute: true }));
  assert.equal(busy.hasHeader("record-route"), false);
  const injected = parseOk(buildResponse(req, 500, "x\r\nEvil: 1", { server: "" }));
  assert.equal(injected.hasHeader("evil"), false);
  assert.equal(injected.hasHeader("server"), false);
});

test("CANCEL: same R-URI, top Via only, CSeq n CANCEL, Route kept", () => {
  const inv = parseOk(INVITE);
  const c = parseOk(buildCancel(inv));
  assert.equal(c.method, "CANCEL");
  assert.equal(c.requestUri, inv.requestUri);
  assert.deepEqual(
    c.vias.map((v) => v.branch),
    ["z9hG4bKp1"],
  );
  assert.deepEqual(c.cseq, { seq: 314159, method: "CANCEL" });
  assert.equal(c.routes[0]?.uri.host, "r1.example.com");
  assert.equal(c.maxForwards, 70);
  assert.equal(c.to.tag, undefined);
  assert.deepEqual(c.validate(), { ok: true });
  assert.equal(parseOk(buildCancel(inv, "sip:bob@192.0.2.9")).requestUri, "sip:bob@192.0.2.9");
});

test("ACK for a non-2xx: To from the response, CSeq n ACK", () => {
  const inv = parseOk(INVITE);
  const res = parseOk(buildResponse(inv, 486, "Busy Here", { toTag: "bt" }));
  const ack = parseOk(buildAckForNon2xx(inv, res));
  assert.equal(ack.method, "ACK");
  assert.equal(ack.requestUri, inv.requestUri);
  assert.equal(ack.to.tag, "bt");
  assert.equal(ack.from.tag, inv.from.tag);
  assert.deepEqual(
    ack.vias.map((v) => v.branch),
    ["z9hG4bKp1"],
  );
  assert.deepEqual(ack.cseq, { seq: 314159, method: "ACK" });
  assert.deepEqual(ack.validate(), { ok: true });
});

test("ids: branch cookie, uniqueness, pool refill", () => {
  const ids = new IdGenerator();
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const b = ids.generateBranch();
    assert.match(b, /^z9hG4bK[0-9a-f]{24}$/);
    seen.add(b);
    seen.add(ids.generateTag());
  }
  assert.equal(seen.size, 4000);
  assert.match(generateTag(), /^[0-9a-f]{16}$/);
  assert.match(generateBranch(), /^z9hG4bK/);
});
