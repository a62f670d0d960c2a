// bench/tail-causes.ts on a hand-made trace: which slow requests a GC pause or a CPU queue overlapped,
// and who held the CPU the router waited for. The files are the formats the real run writes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { explain, readSched } from "../../bench/tail-causes.js";

const S = 1e9; // ns per s
const T0 = 100 * S;

test("slow requests are put next to the router's GC pause and its wait for a CPU, the rest under 'none'", () => {
  const dir = mkdtempSync(join(tmpdir(), "evsip-tail-test-"));
  try {
    // perf sched timehist: switch-out time (s), CPU, task, wait, scheduling delay, run (ms).
    writeFileSync(
      join(dir, "sched.txt"),
      [
        "           time    cpu  task name                       wait time  sch delay   run time",
        "  100.011000 [0000]  node[601/600]                       0.000      0.000      1.000",
        "  100.011200 [0000]  node[500]                           0.000      0.800      0.100",
        "  100.045000 [0001]  kworker/1:0[20]                     0.000      0.000     45.000",
      ].join("\n"),
    );
    writeFileSync(join(dir, "evsip-500.gc.txt"), `${T0 + 0.0005 * S} 0.400 1\n`);
    writeFileSync(
      join(dir, "evsip-500.run.json"),
      JSON.stringify({
        router: "evsip",
        pid: 500,
        toolPid: 600,
        sentAtNs: [T0 + 0.0001 * S, T0 + 0.01 * S, T0 + 0.02 * S, T0 + 0.03 * S],
        latencyUs: [1000, 1000, 50, 500],
      }),
    );
    const out = explain(dir, "evsip-500.run.json", readSched(join(dir, "sched.txt")), 100);
    assert.match(out, /3 requests took 100 µs or more/);
    assert.match(out, /\| router's GC pause \| 1 \| 33 % \|/);
    assert.match(out, /\| router waiting for a CPU \| 1 \| 33 % \|/);
    assert.match(out, /\| tool's main thread waiting for a CPU \| 0 \| 0 % \|/);
    assert.match(out, /\| none of these \| 1 \| 33 % \|/);
    // The tool's thread ran 100.0100–100.0110 s; the router waited 100.0103–100.0111 s.
    assert.match(out, /\| tool's other threads \| 0\.7 \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
