// FNV-1a: the published 32-bit test vectors, and continuing a hash equals hashing the concatenation
// (what tm's hashIndex and sl's joined To-tag hash rely on).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FNV1A_OFFSET_BASIS, fnv1a, fnv1a53, fnv1aUnit } from "../../src/common/fnv1a.js";

test("FNV-1a 32-bit test vectors", () => {
  assert.equal(fnv1a(""), FNV1A_OFFSET_BASIS);
  assert.equal(fnv1a("a"), 0xe40c292c);
  assert.equal(fnv1a("abc"), 0x1a47e90b);
  assert.equal(fnv1a("foobar"), 0xbf9cf968);
});

test("continuing a hash equals hashing the concatenation", () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), fc.integer({ min: 0, max: 0xffffffff }), (a, b, seed) => {
      assert.equal(fnv1a(b, fnv1a(a, seed)), fnv1a(a + b, seed));
      assert.equal(fnv1a(b, fnv1aUnit(fnv1a(a), 0x20)), fnv1a(`${a} ${b}`));
    }),
    { numRuns: 300 },
  );
});

test("fnv1a53 is the two 32-bit runs joined into 53 bits, an exact integer", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (s) => {
      const h = fnv1a53(s);
      assert.equal(h, fnv1a(s) * 0x200000 + (fnv1a(s, 0x050c5d1f) & 0x1fffff));
      assert.ok(Number.isSafeInteger(h) && h >= 0);
    }),
    { numRuns: 300 },
  );
});
