// SteadyMap behaves as a Map of its own entries: any sequence of set/delete/get/has/clear gives a
// plain Map's answers, and neither size nor values() ever shows the entries that keep it large.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SteadyMap } from "../../src/common/steady-map.js";

type Op = { op: "set"; k: string; v: number } | { op: "delete"; k: string } | { op: "clear" };

const key = fc.constantFrom("a", "b", "c", "", "z9hG4bK.1", "Symbol(steady-map filler)");
const ops = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant("set" as const), k: key, v: fc.integer() }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant("delete" as const), k: key }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("clear" as const) }) },
  ),
  { maxLength: 60 },
);

test("agrees with a Map after every operation", () => {
  fc.assert(
    fc.property(ops, (seq: Op[]) => {
      const m = new Map<string, number>();
      const s = new SteadyMap<string, number>();
      for (const o of seq) {
        if (o.op === "set") {
          m.set(o.k, o.v);
          s.set(o.k, o.v);
        } else if (o.op === "delete") {
          assert.equal(s.delete(o.k), m.delete(o.k));
        } else {
          m.clear();
          s.clear();
        }
        assert.equal(s.size, m.size);
        assert.deepEqual([...s.values()], [...m.values()]);
        for (const k of ["a", "b", "c", "", "z9hG4bK.1"]) {
          assert.equal(s.has(k), m.has(k));
          assert.equal(s.get(k), m.get(k));
        }
      }
    }),
    { numRuns: 200 },
  );
});

test("number keys, and a churn of many entries, end empty", () => {
  const s = new SteadyMap<number, object>();
  for (let i = 0; i < 20_000; i++) {
    s.set(i, { i });
    if (i >= 5) s.delete(i - 5);
  }
  assert.equal(s.size, 5);
  assert.deepEqual(
    [...s.values()].map((v) => (v as { i: number }).i),
    [19_995, 19_996, 19_997, 19_998, 19_999],
  );
  for (let i = 19_995; i < 20_000; i++) s.delete(i);
  assert.equal(s.size, 0);
  assert.deepEqual([...s.values()], []);
});
