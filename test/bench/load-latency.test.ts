// The load tool's percentiles (bench/load/latency.ts): every reported percentile is a sample that
// satisfies the nearest-rank definition, checked against counting in a sorted copy, and the
// growable recorder agrees with summarizing the same samples at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LatencyRecorder, summarize } from "../../bench/load/latency.js";

const samples = fc.array(fc.double({ min: 0, max: 1e7, noNaN: true }), { minLength: 1, maxLength: 3000 });

test("each percentile is the nearest-rank sample: at least q·n samples ≤ it, fewer than q·n below it", () => {
  fc.assert(
    fc.property(samples, (xs) => {
      const s = summarize(xs);
      const sorted = [...xs].sort((a, b) => a - b);
      const n = sorted.length;
      assert.equal(s.n, n);
      assert.equal(s.max, sorted[n - 1]);
      for (const [q, p] of [
        [0.5, s.p50],
        [0.9, s.p90],
        [0.99, s.p99],
        [0.999, s.p999],
      ] as const) {
        const rank = Math.ceil(q * n);
        assert.ok(sorted.includes(p), `p${q * 100} ${p} is a sample`);
        assert.ok(sorted.filter((x) => x <= p).length >= rank, `p${q * 100}: at least ${rank} samples ≤ ${p}`);
        assert.ok(sorted.filter((x) => x < p).length < rank, `p${q * 100}: fewer than ${rank} samples < ${p}`);
      }
      assert.ok(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.max);
    }),
    { numRuns: 200 },
  );
});

test("the recorder keeps every sample as it grows past its first buffer", () => {
  const xs = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5003);
  const r = new LatencyRecorder();
  for (const x of xs) r.add(x);
  assert.equal(r.count, 5000);
  assert.deepEqual(r.summary(), summarize(xs));
});

test("no samples: n 0 and NaN percentiles", () => {
  const s = new LatencyRecorder().summary();
  assert.equal(s.n, 0);
  assert.ok(Number.isNaN(s.p99) && Number.isNaN(s.max));
});
