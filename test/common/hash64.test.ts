// hash64hexJoined must give exactly hash64hex of the joined string (sl To-tags stay what they were).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { hash64hex, hash64hexJoined } from "../../src/common/hash64.js";
import { fnv1a } from "../../src/common/fnv1a.js";

test("hash64hex gives the ids it always gave (stateless branches and To-tags survive an upgrade)", () => {
  assert.equal(hash64hex("a84b@host|1928301774|314159"), "8ed0113d9197539b");
  assert.equal(hash64hex(""), "811c9dc5050c5d1f");
  // The two FNV-1a passes as zero-padded hex, written the plain way.
  const plain = (h: number): string => h.toString(16).padStart(8, "0");
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (s) => hash64hex(s) === plain(fnv1a(s)) + plain(fnv1a(s, 0x050c5d1f))),
    { numRuns: 500 },
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
