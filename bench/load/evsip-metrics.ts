// With --evsip-metrics the evsip child also serves /metrics (its `metrics` param) and the tool
// scrapes it before and after the measured run: heap and external memory apart, GC pauses by kind
// (prom-client's nodejs_* metrics) and event-loop lag. Off by default: the GC observer and the
// endpoint are work Kamailio does not do.

import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** The series of a Prometheus text page: `name{labels}` → value. */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const sp = line.lastIndexOf(" ");
    const v = Number(line.slice(sp + 1));
    if (sp > 0 && !Number.isNaN(v)) out.set(line.slice(0, sp), v);
  }
  return out;
}

// The page is fetched by a short-lived child process, not by the tool. An HTTP client in the tool's
// own process (fetch; node:http too) raised the relay p99 of the run that followed by half or more,
// for evsip whose page it was: the tool stamps every answer, so what it loads and keeps is in every
// latency. From a child process the rise was within the spread between runs (docs/load.md, "Two
// things this found that are not the router's").
const FETCH_PAGE = `fetch(process.argv[1], { signal: AbortSignal.timeout(5000) })
  .then(async (r) => { if (!r.ok) throw new Error("HTTP " + r.status); process.stdout.write(await r.text()); })
  .catch((e) => { console.error(String(e)); process.exitCode = 1; });`;

export async function scrape(port: number): Promise<Map<string, number>> {
  const url = `http://127.0.0.1:${port}/metrics`;
  try {
    const { stdout } = await execFileAsync(process.execPath, ["-e", FETCH_PAGE, url], { timeout: 10_000, maxBuffer: 8 << 20 });
    return parsePrometheus(stdout);
  } catch (e) {
    // The child's error repeats its whole script; its stderr says what went wrong.
    const stderr = (e as { stderr?: string }).stderr?.trim();
    throw new Error(`scrape of ${url} failed: ${stderr || (e as Error).message.split("\n")[0]}`, { cause: e });
  }
}

/** What one measured run did to evsip's heap, GC and event loop. */
export interface EvsipVitals {
  readonly heapBeforeMb: number;
  readonly heapAfterMb: number;
  readonly externalBeforeMb: number;
  readonly externalAfterMb: number;
  /** GC pauses during the run, by prom-client kind (minor = scavenge, major = mark-compact, …). */
  readonly gc: { kind: string; count: number; totalMs: number }[];
  /** Event-loop delay over the run (prom-client resets its histogram at each scrape), ms. */
  readonly loopLagP99Ms: number;
  readonly loopLagMaxMs: number;
}

const MB = 1024 * 1024;

export function vitals(before: Map<string, number>, after: Map<string, number>): EvsipVitals {
  const get = (m: Map<string, number>, k: string): number => m.get(k) ?? Number.NaN;
  const kinds = ["minor", "major", "incremental", "weakcb"];
  const series = (suffix: string, kind: string): string => `nodejs_gc_duration_seconds_${suffix}{kind="${kind}"}`;
  return {
    heapBeforeMb: get(before, "nodejs_heap_size_used_bytes") / MB,
    heapAfterMb: get(after, "nodejs_heap_size_used_bytes") / MB,
    externalBeforeMb: get(before, "nodejs_external_memory_bytes") / MB,
    externalAfterMb: get(after, "nodejs_external_memory_bytes") / MB,
    gc: kinds.map((kind) => ({
      kind,
      count: (after.get(series("count", kind)) ?? 0) - (before.get(series("count", kind)) ?? 0),
      totalMs: ((after.get(series("sum", kind)) ?? 0) - (before.get(series("sum", kind)) ?? 0)) * 1000,
    })),
    loopLagP99Ms: get(after, "nodejs_eventloop_lag_p99_seconds") * 1000,
    loopLagMaxMs: get(after, "nodejs_eventloop_lag_max_seconds") * 1000,
  };
}
