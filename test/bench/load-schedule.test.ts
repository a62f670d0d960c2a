// The load tool's open-loop schedule (bench/load/schedule.ts): due times come from the start, per
// segment, in order; the pacer sends every index exactly once, in order, never before it is due, and
// a send held up by a blocked event loop goes out late (its lag measured) instead of being skipped.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { pace, Schedule } from "../../bench/load/schedule.js";

const segments = fc.array(fc.record({ rate: fc.integer({ min: 1, max: 20_000 }), seconds: fc.integer({ min: 1, max: 10 }) }), {
  minLength: 1,
  maxLength: 6,
});

test("a schedule holds rate × seconds sends per segment, due in order within each segment's time", () => {
  fc.assert(
    fc.property(segments, (segs) => {
      const s = new Schedule(segs);
      assert.equal(
        s.total,
        segs.reduce((n, g) => n + Math.round(g.rate * g.seconds), 0),
      );
      let startNs = 0;
      segs.forEach((g, k) => {
        const [from, to] = s.range(k);
        assert.equal(to - from, Math.round(g.rate * g.seconds));
        for (const i of [from, Math.floor((from + to) / 2), to - 1]) {
          assert.equal(s.stepOf(i), k);
          const due = s.dueNs(i);
          assert.ok(due >= startNs && due < startNs + g.seconds * 1e9, `send ${i} due in segment ${k}`);
        }
        if (to - from > 1) assert.ok(Math.abs(s.dueNs(from + 1) - s.dueNs(from) - 1e9 / g.rate) < 1e-3, "one period apart");
        startNs += g.seconds * 1e9;
      });
    }),
    { numRuns: 200 },
  );
});

test("a bad segment is refused", () => {
  assert.throws(() => new Schedule([{ rate: 0, seconds: 1 }]), RangeError);
  assert.throws(() => new Schedule([{ rate: 10, seconds: -1 }]), RangeError);
});

test("the pacer sends every index once, in order, never early, and a blocked loop makes sends late, not skipped", async () => {
  const schedule = new Schedule([{ rate: 2000, seconds: 0.25 }]);
  const seen: number[] = [];
  const at: bigint[] = [];
  const result = await pace(schedule, (i) => {
    seen.push(i);
    at.push(process.hrtime.bigint());
    if (i === 100) {
      // Block the event loop for 30 ms, as a GC pause or a slow batch would.
      const until = process.hrtime.bigint() + 30_000_000n;
      while (process.hrtime.bigint() < until);
    }
  });
  assert.deepEqual(
    seen,
    Array.from({ length: 500 }, (_, i) => i),
  );
  seen.forEach((i) => {
    const sentNs = Number((at[i] as bigint) - result.startNs);
    assert.ok(sentNs >= schedule.dueNs(i), `send ${i} at ${sentNs} ns, due ${schedule.dueNs(i)} ns`);
  });
  // Send 101 was due 0.5 ms after send 100, which then blocked for 30 ms.
  assert.ok((result.lagNs[101] ?? 0) >= 29e6, `lag of send 101: ${result.lagNs[101]} ns`);
});
