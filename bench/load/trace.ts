// --trace-dir: what bench/tail-causes.ts needs to explain a run's slow requests. Per measured run a
// JSON file with each request's send time on the monotonic clock and its latency; evsip's GC pauses
// and the tool's own (scripts/gc-log.mjs, written by each process when it exits), in the same clock.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { UacResult } from "./uac.js";
import type { RouterName } from "./targets.js";

/** One measured run, as tail-causes.ts reads it. */
export interface RunTrace {
  readonly router: RouterName;
  /** The router's process (Kamailio's main one). */
  readonly pid: number;
  /** Kamailio's processes that do a call's work; absent for evsip (its event loop is `pid`). */
  readonly callWorkers?: number[];
  /** The tool's process: its main thread reads every answer. */
  readonly toolPid: number;
  /** Send time of request i, ns on the monotonic clock. */
  readonly sentAtNs: number[];
  /** Latency of request i to its final, µs; null when it got none. */
  readonly latencyUs: (number | null)[];
  /** Status of request i's final (200, 503, ...); 0 when it got none. */
  readonly status: number[];
}

/** Where evsip (pid p) writes its GC pauses: dir/evsip-<p>.gc.txt, next to its run's dir/evsip-<p>.run.json. */
export function evsipGcLogPath(dir: string): string {
  return join(dir, "evsip-%p.gc.txt");
}

export function writeRunTrace(
  dir: string,
  label: string,
  router: RouterName,
  pid: number,
  u: UacResult,
  callWorkers?: number[],
): void {
  const n = u.first.latencyUs.length;
  const trace: RunTrace = {
    router,
    pid,
    ...(callWorkers === undefined ? {} : { callWorkers }),
    toolPid: process.pid,
    sentAtNs: Array.from({ length: n }, (_, i) => u.clock.originNs + (u.clock.sentNs[i] ?? 0)),
    latencyUs: Array.from(u.first.latencyUs, (x) => (Number.isNaN(x) ? null : x)),
    status: Array.from(u.first.status),
  };
  writeFileSync(join(dir, `${label}.run.json`), JSON.stringify(trace));
}

/**
 * Makes `dir` and records the tool's own GC pauses from now on into dir/tool-gc.txt, with the same
 * preload evsip gets (scripts/gc-log.mjs, written when the process exits).
 */
export async function startTrace(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  process.env.EVSIP_GC_LOG = join(dir, "tool-gc.txt");
  await import(new URL("../../../scripts/gc-log.mjs", import.meta.url).href);
}
