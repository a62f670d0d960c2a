// hash64hexJoined must give exactly hash64hex of the joined string (sl To-tags stay what they were).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { hash64hex, hash64hexJoined } from "../../src/common/hash64.js";

test("hash64hex gives the ids it always gave (stateless branches and To-tags survive an upgrade)", () => {
  assert.equal(hash64hex("a84b@host|1928301774|314159"), "8ed0113d9197539b");
  assert.equal(hash64hex(""), "811c9dc5050c5d1f");
  fc.assert(
    fc.property(fc.string(), (s) => /^[0-9a-f]{16}$/.test(hash64hex(s))),
    { numRuns: 300 },
  );
});

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
