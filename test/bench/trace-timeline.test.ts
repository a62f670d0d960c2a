// bench/trace-timeline.ts on a hand-made trace: requests binned by send time, finals told apart by
// status, latency taken from those answered only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { timeline, timelineTable } from "../../bench/trace-timeline.js";

const MS = 1e6; // ns per ms
const t0 = 5_000 * MS;

test("bins requests by send time and tells a 2xx from a refusal from no final", () => {
  const bins = timeline(
    {
      sentAtNs: [t0, t0 + 10 * MS, t0 + 99 * MS, t0 + 100 * MS, t0 + 350 * MS],
      latencyUs: [1_000, 3_000, null, 200_000, 40],
      status: [200, 503, 0, 503, 200],
    },
    100,
  );
  assert.deepEqual(
    bins.map((b) => [b.fromMs, b.sent, b.ok, b.refused, b.none]),
    [
      [0, 3, 1, 1, 1],
      [100, 1, 0, 1, 0],
      [300, 1, 1, 0, 0], // the empty bin at 200 ms is left out
    ],
  );
  // Nearest-rank p50 of the two answered in the first bin is the lower one; the unanswered adds nothing.
  assert.equal(bins[0]?.p50Us, 1_000);
  assert.equal(bins[0]?.maxUs, 3_000);
  assert.equal(bins[1]?.maxUs, 200_000);
});

test("a bin where nothing was answered shows no latency rather than zero", () => {
  const bins = timeline({ sentAtNs: [t0, t0 + 1 * MS], latencyUs: [null, null], status: [0, 0] }, 250);
  assert.equal(bins.length, 1);
  assert.ok(Number.isNaN(bins[0]?.p50Us));
  assert.match(timelineTable(bins), /\| 0 \| 2 \| 0 \| 0 \| 2 \| – \| – \|/);
});
