// --trace-dir: what bench/tail-causes.ts needs to explain a run's slow requests. Per measured run a
// JSON file with each request's send time on the monotonic clock and its latency; evsip's GC pauses
// (scripts/gc-log.mjs, written by evsip when it exits) and the tool's own, in the same clock.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PerformanceObserver, performance } from "node:perf_hooks";
import type { UacResult } from "./uac.js";
import type { RouterName } from "./targets.js";

/** One measured run, as tail-causes.ts reads it. */
export interface RunTrace {
  readonly router: RouterName;
  /** The router's process (Kamailio's main one; its children are found by name). */
  readonly pid: number;
  /** The tool's process: its main thread reads every answer. */
  readonly toolPid: number;
  /** Send time of request i, ns on the monotonic clock. */
  readonly sentAtNs: number[];
  /** Latency of request i to its final, µs; null when it got none. */
  readonly latencyUs: (number | null)[];
}

/** Where evsip (pid p) writes its GC pauses: dir/evsip-<p>.gc.txt, next to its run's dir/evsip-<p>.run.json. */
export function evsipGcLogPath(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return join(dir, "evsip-%p.gc.txt");
}

export function writeRunTrace(dir: string, label: string, router: RouterName, pid: number, u: UacResult): void {
  const n = u.first.latencyUs.length;
  const trace: RunTrace = {
    router,
    pid,
    toolPid: process.pid,
    sentAtNs: Array.from({ length: n }, (_, i) => u.clock.originNs + (u.clock.sentNs[i] ?? 0)),
    latencyUs: Array.from(u.first.latencyUs, (x) => (Number.isNaN(x) ? null : x)),
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${label}.run.json`), JSON.stringify(trace));
}

/** Records the tool's own GC pauses from now on; `write` puts them in dir/tool-gc.txt (scripts/gc-log.mjs's format). */
export function recordToolGc(): { write(dir: string): void } {
  const originNs = process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));
  const lines: string[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      lines.push(`${originNs + BigInt(Math.round(e.startTime * 1e6))} ${e.duration.toFixed(3)} 0`);
  });
  obs.observe({ entryTypes: ["gc"] });
  return {
    write(dir) {
      obs.disconnect();
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "tool-gc.txt"), lines.join("\n") + "\n");
    },
  };
}
