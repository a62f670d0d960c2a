// parseCSeq and header-name helpers (compact forms, canonical spelling).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCSeq } from "../../src/sip/cseq.js";
import { canonicalHeaderName, headerKeyName } from "../../src/sip/header-names.js";

test("CSeq number and method", () => {
  assert.deepEqual(parseCSeq("314159 INVITE"), { seq: 314159, method: "INVITE" });
  assert.deepEqual(parseCSeq(" 0009   ACK "), { seq: 9, method: "ACK" });
  assert.deepEqual(parseCSeq("2147483647 BYE"), { seq: 2147483647, method: "BYE" });
});

test("CSeq rejects overflow, missing method, junk", () => {
  for (const bad of ["2147483648 BYE", "36893488147419103232 REGISTER", "1", "INVITE", "1INVITE", "1 IN VITE", "-1 BYE", ""]) {
    assert.equal(parseCSeq(bad), undefined, bad);
  }
});

test("compact forms expand and names are case-insensitive", () => {
  const pairs: [string, string][] = [
    ["i", "call-id"],
    ["m", "contact"],
    ["e", "content-encoding"],
    ["l", "content-length"],
    ["c", "content-type"],
    ["f", "from"],
    ["s", "subject"],
    ["k", "supported"],
    ["t", "to"],
    ["v", "via"],
    ["o", "event"],
    ["u", "allow-events"],
    ["r", "refer-to"],
    ["b", "referred-by"],
    ["x", "session-expires"],
    ["V", "via"],
    ["CALL-ID", "call-id"],
  ];
  for (const [c, full] of pairs) assert.equal(headerKeyName(c), full, c);
});

test("canonical spelling", () => {
  assert.equal(canonicalHeaderName("call-id"), "Call-ID");
  assert.equal(canonicalHeaderName("i"), "Call-ID");
  assert.equal(canonicalHeaderName("CSEQ"), "CSeq");
  assert.equal(canonicalHeaderName("www-authenticate"), "WWW-Authenticate");
  assert.equal(canonicalHeaderName("record-route"), "Record-Route");
  assert.equal(canonicalHeaderName("x-my-header"), "X-My-Header");
});
