// Property tests of the identifiers: the index is always in 0..65535 and stable for equal
// Call-ID/CSeq; parseIdent accepts integers and their decimal text only.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { hashIndex, parseIdent } from "../../src/tm/index.js";

test("hashIndex is in 0..65535 and stable", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), fc.integer({ min: 0, max: 0x7fffffff }), (callId, seq) => {
      const i = hashIndex(callId, seq);
      assert.ok(Number.isInteger(i) && i >= 0 && i <= 65535);
      assert.equal(hashIndex(callId, seq), i);
    }),
    { numRuns: 500 },
  );
});

test("hashIndex gives the indices it always gave", () => {
  assert.equal(hashIndex("a84b4c76e66710@pc33.atlanta.com", 314159), 146);
  assert.equal(hashIndex("", 0), 14488);
  assert.equal(hashIndex("call-1@host", 1), 16653);
  assert.equal(hashIndex("ünïcode-☃", 4294967295), 47361);
  assert.equal(hashIndex("x", 2147483648), 1797);
});

test("hashIndex spreads over the buckets", () => {
  const seen = new Set<number>();
  for (let n = 0; n < 2000; n++) seen.add(hashIndex(`call-${n}@host`, 1));
  assert.ok(seen.size > 1900);
});

test("parseIdent takes numbers and decimal strings, nothing else", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
      assert.equal(parseIdent(n, 0xffffffff), n);
      assert.equal(parseIdent(String(n), 0xffffffff), n);
    }),
    { numRuns: 200 },
  );
  assert.equal(parseIdent(65536, 65535), undefined);
  assert.equal(parseIdent("-1", 65535), undefined);
  assert.equal(parseIdent("1.5", 65535), undefined);
  assert.equal(parseIdent(1.5, 65535), undefined);
  assert.equal(parseIdent("", 65535), undefined);
  assert.equal(parseIdent("0x10", 65535), undefined);
});
