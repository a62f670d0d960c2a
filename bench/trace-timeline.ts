// What a load run did over time: the requests of a --trace-dir run file binned by when they were
// sent, each bin with how many got a 2xx, a 3xx-6xx (a 503 under overload) or nothing, and the p50
// and max latency of those answered. An overload's outcome is decided by its phases (a spell that
// refuses everything, a queue that keeps growing), which a whole run's totals hide. Not a bench: a
// diagnostic for what load.ts recorded.
// Usage: node dist/bench/trace-timeline.js DIR/<router>-<pid>.run.json [bin ms, default 250]
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { summarize } from "./load/latency.js";
import type { RunTrace } from "./load/trace.js";

/** One bin of send time. */
export interface TimelineBin {
  /** Its start, ms after the first request was sent. */
  readonly fromMs: number;
  readonly sent: number;
  readonly ok: number;
  /** Finals of 300 and over: refusals, under overload. */
  readonly refused: number;
  /** No final by the tool's deadline. */
  readonly none: number;
  /** p50 and max latency (µs) of the requests answered; NaN when none was. */
  readonly p50Us: number;
  readonly maxUs: number;
}

/** The run's requests in bins of `binMs` of send time, from its first request; empty bins left out. */
export function timeline(t: Pick<RunTrace, "sentAtNs" | "latencyUs" | "status">, binMs: number): TimelineBin[] {
  const t0 = t.sentAtNs[0] ?? 0;
  const bins = new Map<number, { sent: number; ok: number; refused: number; none: number; lat: number[] }>();
  t.sentAtNs.forEach((at, i) => {
    const k = Math.floor((at - t0) / (binMs * 1e6));
    let b = bins.get(k);
    if (b === undefined) bins.set(k, (b = { sent: 0, ok: 0, refused: 0, none: 0, lat: [] }));
    b.sent++;
    const status = t.status[i] ?? 0;
    if (status === 0) b.none++;
    else if (status < 300) b.ok++;
    else b.refused++;
    const us = t.latencyUs[i];
    if (us !== null && us !== undefined) b.lat.push(us);
  });
  return [...bins]
    .sort((a, b) => a[0] - b[0])
    .map(([k, b]) => {
      const s = summarize(b.lat);
      return { fromMs: k * binMs, sent: b.sent, ok: b.ok, refused: b.refused, none: b.none, p50Us: s.p50, maxUs: s.max };
    });
}

const ms = (us: number): string => (Number.isNaN(us) ? "–" : (us / 1000).toFixed(1));

export function timelineTable(bins: readonly TimelineBin[]): string {
  let s = "| from (ms) | sent | 2xx | refused (≥ 300) | no final | p50 (ms) | max (ms) |\n|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const b of bins)
    s += `| ${b.fromMs} | ${b.sent} | ${b.ok} | ${b.refused} | ${b.none} | ${ms(b.p50Us)} | ${ms(b.maxUs)} |\n`;
  return s;
}

function main(): void {
  const [file, bin = "250"] = process.argv.slice(2);
  if (file === undefined) throw new Error("usage: node dist/bench/trace-timeline.js DIR/<router>-<pid>.run.json [bin ms]");
  const binMs = Number(bin);
  if (!(binMs > 0)) throw new Error("the bin is a positive number of ms");
  const t = JSON.parse(readFileSync(file, "utf8")) as RunTrace;
  if (!Array.isArray(t.status)) throw new Error(`${file} has no status per request: recorded before the tool kept it`);
  process.stdout.write(timelineTable(timeline(t, binMs)));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
