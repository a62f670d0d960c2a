// A preload (`node --import scripts/gc-log.mjs …`) that records every GC pause of the process —
// start on the monotonic clock (process.hrtime, ns), duration (ms) and kind — and writes them, one
// per line, to $EVSIP_GC_LOG (%p there becomes the pid) when the process exits. With --trace-dir the
// load tool loads it in evsip and in itself, so bench/tail-causes.ts can put each slow request next
// to the pauses it overlapped.
import { PerformanceObserver, performance } from "node:perf_hooks";
import { writeFileSync } from "node:fs";

const out = process.env.EVSIP_GC_LOG?.replaceAll("%p", String(process.pid));
// performance.now() and process.hrtime share one monotonic clock; this is the offset between them.
const originNs = process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));
const lines = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const startNs = originNs + BigInt(Math.round(e.startTime * 1e6));
    lines.push(`${startNs} ${e.duration.toFixed(3)} ${e.detail?.kind ?? 0}`);
  }
}).observe({ entryTypes: ["gc"] });
if (out !== undefined && out !== "") process.on("exit", () => writeFileSync(out, lines.join("\n") + "\n"));
