// How bunched the load tool's input was (bench/load/report.ts, bunched()): the share of requests
// that left less than a quarter of their scheduled gap after the one before, per segment's rate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Schedule } from "../../bench/load/schedule.js";
import { bunched } from "../../bench/load/report.js";

test("even input is not bunched; 1 ms ticks at 5,000/s are; the gap is each segment's own", () => {
  const even = new Schedule([{ rate: 5000, seconds: 0.01 }]);
  assert.equal(bunched({ schedule: even, pace: { startNs: 0n, lagNs: new Float64Array(even.total) } }), 0);

  // Ticks every 1 ms: request i leaves at the next whole millisecond after it is due.
  const ticked = (s: Schedule): Float64Array =>
    Float64Array.from({ length: s.total }, (_, i) => Math.ceil(s.dueNs(i) / 1e6) * 1e6 - s.dueNs(i));
  // Request 0 leaves alone at 0, then five to a tick, four of them bunched: 39 of 50.
  assert.equal(bunched({ schedule: even, pace: { startNs: 0n, lagNs: ticked(even) } }), 78);

  // At 20,000/s a 50 µs gap is the schedule itself, not a burst.
  const fast = new Schedule([{ rate: 20_000, seconds: 0.01 }]);
  assert.equal(bunched({ schedule: fast, pace: { startNs: 0n, lagNs: new Float64Array(fast.total) } }), 0);
});
