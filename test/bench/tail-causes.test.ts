// bench/tail-causes.ts on hand-made traces, in the formats a real run writes: which slow requests a
// GC pause, a CPU queue or a long run overlapped, the faster requests as baseline, and who held the
// CPU the router waited for.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { explain, parseSchedRow, readSched } from "../../bench/tail-causes.js";

const S = 1e9; // ns per s
const at = (s: number): number => 100 * S + s * S;

/** perf sched timehist rows: switch-out time (s), CPU, task, wait, scheduling delay, run (ms). */
const SCHED = [
  "           time    cpu  task name                       wait time  sch delay   run time",
  "  100.011000 [0000]  node[601/600]                       0.000      0.000      1.000",
  "  100.011200 [0000]  node[500]                           0.000      0.800      0.100",
  "  100.030300 [0000]  node[500]                           0.000      0.000      0.100",
  "  100.040600 [0000]  node[500]                           0.000      0.000      0.600",
  "  100.055600 [0001]  kamailio[700]                       0.000      0.600      0.000",
  "  100.058400 [0001]  kamailio[701]                       0.000      0.400      0.000",
  "  100.060000 [0001]  kworker/1:0[20]                     0.000      0.000     60.000",
].join("\n");

function traceDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "evsip-tail-test-"));
  writeFileSync(join(dir, "sched.txt"), SCHED);
  // A pause that began before r0 was sent and ended after: only its length makes it overlap.
  writeFileSync(join(dir, "evsip-500.gc.txt"), `${at(0)} 0.400 1\n`);
  writeFileSync(join(dir, "tool-gc.txt"), `${at(0.02)} 0.100 1\n${at(0.0501)} 0.100 1\n`);
  // slow (≥ 100 µs): r0 GC, r1 waits for the CPU, r3 nothing (a short run only), r4 a long run, r5 the tool's GC;
  // fast: r2 (the tool's GC), r2b (nothing); r6 was sent before the trace began.
  const reqs: [number, number][] = [
    [0.0001, 1000],
    [0.01, 1000],
    [0.02, 40],
    [0.03, 500],
    [0.035, 40],
    [0.0401, 800],
    [0.05, 300],
    [-0.1, 1000],
  ];
  const run = (router: string, pid: number, rs: [number, number][], more = {}): string =>
    JSON.stringify({ router, pid, toolPid: 600, sentAtNs: rs.map(([s]) => at(s)), latencyUs: rs.map(([, l]) => l), ...more });
  writeFileSync(join(dir, "evsip-500.run.json"), run("evsip", 500, reqs));
  // Kamailio's process 700 handles calls; 701 (a timer, say) does not. k1 overlaps only 701's wait.
  const kam: [number, number][] = [
    [0.0552, 600],
    [0.058, 300],
  ];
  writeFileSync(join(dir, "kamailio-700.run.json"), run("kamailio", 700, kam, { callWorkers: [700] }));
  writeFileSync(join(dir, "kamailio-699.run.json"), run("kamailio", 699, kam));
  return dir;
}

test("evsip: each slow request is counted under what overlapped it, with the faster ones as baseline", async () => {
  const dir = traceDir();
  try {
    const out = explain(dir, "evsip-500.run.json", await readSched(join(dir, "sched.txt")), 100);
    assert.match(out, /5 requests took 100 µs or more within the traced 0\.1 s; 4 of them \(80 %\) next to/);
    assert.match(out, /\| the router's GC pause \| 1 \| 20 % \| 0 % \|/);
    assert.match(out, /\| the router waiting for a CPU \| 1 \| 20 % \| 0 % \|/);
    assert.match(out, /\| the router running 0\.5 ms or more at a stretch \| 1 \| 20 % \| 0 % \|/);
    assert.match(out, /\| the tool's GC pause \| 1 \| 20 % \| 50 % \|/);
    assert.match(out, /\| the tool's main thread waiting for a CPU \| 0 \| 0 % \| 0 % \|/);
    assert.match(out, /\| none of these \| 1 \| 20 % \| \|/);
    // The tool's thread ran 100.0100–100.0110 s; the router waited 100.0103–100.0111 s.
    assert.match(out, /\| tool's other threads \| 0\.7 \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("without --over the threshold is the run's p99 (nearest rank), as in the load tool's tables", async () => {
  const dir = traceDir();
  try {
    const out = explain(dir, "evsip-500.run.json", await readSched(join(dir, "sched.txt")), undefined);
    assert.match(out, /^evsip \(pid 500\): 2 requests took 1000 µs or more/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Kamailio: its call workers are the router (every kamailio process when not listed); no GC row", async () => {
  const dir = traceDir();
  try {
    const slices = await readSched(join(dir, "sched.txt"));
    const out = explain(dir, "kamailio-700.run.json", slices, 100);
    assert.match(out, /\| the router's GC pause \| – \| – \| – \|/);
    assert.match(out, /\| the router waiting for a CPU \| 1 \| 50 % \|/);
    assert.match(out, /\| none of these \| 1 \| 50 % \|/);
    const unlisted = explain(dir, "kamailio-699.run.json", slices, 100);
    assert.match(unlisted, /\| the router waiting for a CPU \| 2 \| 100 % \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a timehist row whose task name holds spaces still parses; headers do not", () => {
  const s = parseSchedRow("  100.000300 [0001]  my task[42/40]   0.010      0.050      0.100");
  assert.deepEqual(s && { comm: s.comm, tid: s.tid, pid: s.pid, cpu: s.cpu }, { comm: "my task", tid: 42, pid: 40, cpu: 1 });
  assert.ok(s !== undefined && Math.abs(s.run[0] - 100.0002 * S) < 1 && Math.abs(s.wait[0] - 100.00015 * S) < 1);
  assert.equal(parseSchedRow("           time    cpu  task name      wait time  sch delay   run time"), undefined);
});
