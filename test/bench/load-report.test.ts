// How bunched the load tool's input was (bench/load/report.ts, bunched()): the share of requests
// that left less than a quarter of their scheduled gap after the one before, per segment's rate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Schedule } from "../../bench/load/schedule.js";
import { bunched, repeatTable, runTable, spread, stepsTable, type RouterRun } from "../../bench/load/report.js";
import { HELD_BACK } from "../../bench/load/oc-client.js";

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

test("spread: min, median and max, NaN left out; an even count's median is the lower middle (nearest rank)", () => {
  assert.deepEqual(spread([3, Number.NaN, 1, 2]), { min: 1, median: 2, max: 3 });
  assert.deepEqual(spread([4, 1, 3, 2]), { min: 1, median: 2, max: 4 });
  const none = spread([Number.NaN]);
  assert.ok(Number.isNaN(none.min) && Number.isNaN(none.median) && Number.isNaN(none.max));
});

/** A run of `n` requests, all answered 200 in `latencyUs`, that cost the router `cpuSeconds`. */
function run(router: RouterRun["router"], n: number, latencyUs: number, cpuSeconds: number): RouterRun {
  const schedule = new Schedule([{ rate: n, seconds: 1 }]);
  const outcomes = {
    status: new Uint16Array(n).fill(200),
    latencyUs: new Float64Array(n).fill(latencyUs),
    sent: new Uint8Array(n).fill(1),
  };
  const none = { status: new Uint16Array(0), latencyUs: new Float64Array(0), sent: new Uint8Array(0) };
  return {
    router,
    uac: {
      schedule,
      pace: { startNs: 0n, lagNs: new Float64Array(n) },
      first: outcomes,
      bye: none,
      provisionals: 0,
      strays: 0,
      mismatched: 0,
      drops: 0,
      answersAtSender: 0,
      clock: { originNs: 0, sentNs: new Float64Array(n) },
    },
    cpuSeconds,
    userCpuSeconds: cpuSeconds / 2,
    toolCpuSeconds: 0,
    routerDrops: 0,
    memBeforeKb: 1000,
    memAfterKb: 1000,
    memSamples: [],
  };
}

test("repeatTable: each router's median (min–max) over the runs, and the band of the per-run ratios", () => {
  const all = [
    [run("evsip", 100, 300, 0.01), run("kamailio", 100, 100, 0.01)],
    [run("evsip", 100, 100, 0.02), run("kamailio", 100, 200, 0.01)],
    [run("evsip", 100, 200, 0.01), run("kamailio", 100, 400, 0.02)],
  ];
  const rows = repeatTable(all, 2000).split("\n");
  assert.match(rows[0] ?? "", /median \(min–max\) of 3 runs \| evsip \| kamailio \| evsip\/Kamailio/);
  // p99 per run: 300/100, 100/200, 200/400 → ratios 3, 0.5, 0.5.
  assert.ok(rows.includes("| send→final p99 (µs) | 200 (100–300) | 200 (100–400) | 0.50 (0.50–3.00) |"), rows.join("\n"));
  // CPU per call: 100, 200, 100 µs against 100, 100, 200 → ratios 1, 2, 0.5.
  assert.ok(
    rows.includes("| router CPU per completed call (µs) | 100.0 (100.0–200.0) | 100.0 (100.0–200.0) | 1.00 (0.50–2.00) |"),
  );
  // Half of it in user mode (the run() above), with the same ratios.
  assert.ok(
    rows.includes("| router user-mode CPU per completed call (µs) | 50.0 (50.0–100.0) | 50.0 (50.0–100.0) | 1.00 (0.50–2.00) |"),
    rows.join("\n"),
  );
  // Text rows (finals by status) and rows without a ratio (the tool's send lag) have no band.
  assert.ok(!rows.some((r) => r.startsWith("| finals by status") || r.startsWith("| send lag")));
  // No memory held on either side: no ratio to take.
  assert.ok(rows.includes("| router memory held (MB) | 0.0 (0.0–0.0) | 0.0 (0.0–0.0) | – |"), rows.join("\n"));
});

test("a ratio against a Kamailio value that prints as 0 is left blank, in one run's table and over runs", () => {
  const k = run("kamailio", 100, 100, 0.01);
  // 0.04 KB held over 100 calls: 0.4 B per call, which the table prints as 0.
  const pair = [
    { ...run("evsip", 100, 100, 0.01), memAfterKb: 1010 },
    { ...k, memAfterKb: 1000.04 },
  ];
  const row = (table: string): string | undefined =>
    table.split("\n").find((r) => r.startsWith("| router memory held per completed call (B)"));
  assert.equal(row(runTable(pair, 2000)), "| router memory held per completed call (B) | 102 | 0 |  |");
  assert.equal(
    row(repeatTable([pair, pair], 2000)),
    "| router memory held per completed call (B) | 102 (102–102) | 0 (0–0) | – |",
  );
  // The same with Kamailio at 0.6 B per call, which prints as 1: the ratio is taken.
  const held = [pair[0]!, { ...k, memAfterKb: 1000.06 }];
  assert.equal(row(runTable(held, 2000)), "| router memory held per completed call (B) | 102 | 1 | 166.67 |");
});

test("--oc: a request the caller held back is neither sent nor lost; the steps table shows it beside the failed calls", () => {
  const r = run("evsip", 10, 100, 0.01);
  const { status, sent } = r.uac.first;
  for (const i of [1, 2, 3]) {
    sent[i] = HELD_BACK;
    status[i] = 0;
  }
  for (const i of [5, 6]) status[i] = 0; // sent, never answered
  const rows = runTable([r], 2000).split("\n");
  assert.ok(rows.includes("| sent | 7 |"), rows.join("\n"));
  assert.ok(rows.includes("| lost (no final by the deadline) | 2 |"), rows.join("\n"));
  assert.ok(rows.includes("| held back by the caller (RFC 7339 oc) | 3 |"), rows.join("\n"));
  assert.ok(stepsTable([r]).includes("| 10 | 5 / 5 (3 held back) | 2 |"), stepsTable([r]));
  // Without a held-back request the row is not there at all.
  assert.ok(!runTable([run("evsip", 10, 100, 0.01)], 2000).includes("held back"));
});

test("--edge: the edge router's CPU per completed call and its socket's drops get rows of their own", () => {
  const plain = runTable([run("evsip", 100, 50, 0.01)], 2000);
  assert.equal(plain.includes("edge router"), false, "no edge rows without an edge");
  const withEdge = runTable([{ ...run("evsip", 100, 50, 0.01), edge: { cpuSeconds: 0.02, drops: 3 } }], 2000);
  assert.match(withEdge, /\| edge router CPU per completed call \(µs\) \| 200\.0 \|/);
  assert.match(withEdge, /\| datagrams dropped at the edge router's SIP socket \| 3 \|/);
});
