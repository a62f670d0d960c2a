// hash64hexJoined must give exactly hash64hex of the joined string (sl To-tags stay what they were).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { hash64hex, hash64hexJoined } from "../../src/core/hash.js";

test("hash64hexJoined equals hash64hex of the parts joined by the separator", () => {
  assert.equal(hash64hexJoined("a84b@host", "1928301774", "314159", 0x7c), hash64hex("a84b@host|1928301774|314159"));
  assert.equal(hash64hexJoined("", "", "", 0x7c), hash64hex("||"));
  fc.assert(
    fc.property(
      fc.string(),
      fc.string(),
      fc.string(),
      (a, b, c) => hash64hexJoined(a, b, c, 0x7c) === hash64hex(`${a}|${b}|${c}`),
    ),
    { numRuns: 300 },
  );
});
