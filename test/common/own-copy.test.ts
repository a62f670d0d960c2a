// ownCopy: equal to its input for any string, and, measured with the real garbage collector, a kept
// copy does not hold the message head it was sliced from (src/common/own-copy.ts says why).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ownCopy } from "../../src/common/own-copy.js";
import { retainedPerItem, slicedCallId } from "../support/retained.js";

test("ownCopy returns an equal string, short or long, sliced or not", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.nat(), fc.nat(), (s, a, b) => {
      assert.equal(ownCopy(s), s);
      const from = Math.min(a, s.length);
      const to = from + Math.min(b, s.length - from);
      assert.equal(ownCopy(s.slice(from, to)), s.slice(from, to));
    }),
    { numRuns: 500 },
  );
});

test("a kept Call-ID holds its message's head as a slice, and only itself through ownCopy", () => {
  const sliced: string[] = [];
  const copied: string[] = [];
  const slicePer = retainedPerItem(2000, (i) => sliced.push(slicedCallId(i)));
  const copyPer = retainedPerItem(2000, (i) => copied.push(ownCopy(slicedCallId(i))));
  assert.equal(sliced.length + copied.length, 4000);
  assert.ok(slicePer > 2000, `a slice kept ${slicePer} B: the head should come with it (else this test shows nothing)`);
  assert.ok(copyPer < 1000, `an own copy kept ${copyPer} B per Call-ID`);
});
