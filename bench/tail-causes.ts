// Why were a load run's slow requests slow? Puts each request over a latency threshold (the run's
// p99 unless --over) next to what overlapped it, all on the monotonic clock: the router's GC
// pauses, the router waiting for a CPU or running long (perf sched), and the same for the load tool
// that timed it. Not a bench: a diagnostic, run by bench/tail-causes.sh, which records what it reads:
//   DIR/<router>-<pid>.run.json   (load.ts --trace-dir: send times and latencies)
//   DIR/evsip-<pid>.gc.txt        (scripts/gc-log.mjs in evsip)   DIR/tool-gc.txt (the tool's own)
//   DIR/sched.txt                 (perf sched timehist of perf sched record -k CLOCK_MONOTONIC)
// Usage: node dist/bench/tail-causes.js DIR [--over µs]
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { RunTrace } from "./load/trace.js";

/** [start, end) in ns on the monotonic clock. */
type Span = readonly [number, number];

/** A row of `perf sched timehist`: one stretch on a CPU, and the wait before it. */
export interface Slice {
  readonly cpu: number;
  readonly comm: string;
  readonly tid: number;
  readonly pid: number;
  /** Runnable but not running, before `run`. */
  readonly wait: Span;
  readonly run: Span;
}

/** A request waiting or a CPU queue shorter than this is not counted: ordinary wake-up cost. */
const WAIT_NS = 200_000;
/** A run on the CPU this long is "running long". */
const LONG_RUN_NS = 500_000;

const TASK = /^(.*)\[(\d+)(?:\/(\d+))?\]$/;

/** `perf sched timehist` text, sorted by when each stretch began. */
export function readSched(file: string): Slice[] {
  const out: Slice[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !/^\d+\.\d+$/.test(f[0] ?? "")) continue;
    const m = TASK.exec(f[2] ?? "");
    if (m === null) continue;
    const end = Number(f[0]) * 1e9;
    const delay = Number(f[4]) * 1e6;
    const run = Number(f[5]) * 1e6;
    const tid = Number(m[2]);
    out.push({
      cpu: Number((f[1] ?? "").replace(/\D/g, "")),
      comm: m[1] ?? "",
      tid,
      pid: m[3] === undefined ? tid : Number(m[3]),
      wait: [end - run - delay, end - run],
      run: [end - run, end],
    });
  }
  return out.sort((a, b) => a.run[0] - b.run[0]);
}

function readGc(file: string): Span[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [start, ms] = l.split(" ");
      return [Number(start), Number(start) + Number(ms) * 1e6] as const;
    });
}

/** Spans sorted by start, with the longest span so far, so overlap queries can stop early. */
class Spans {
  private readonly s: Span[];
  private readonly longest: number;
  constructor(spans: Span[]) {
    this.s = [...spans].sort((a, b) => a[0] - b[0]);
    this.longest = Math.max(0, ...this.s.map(([a, b]) => b - a));
  }

  /** Whether any span overlaps [from, to). */
  overlaps(from: number, to: number): boolean {
    let lo = 0;
    let hi = this.s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.s[mid] as Span)[0] < from - this.longest) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.s.length; i++) {
      const [a, b] = this.s[i] as Span;
      if (a >= to) break;
      if (b > from) return true;
    }
    return false;
  }
}

/** Who a slice belongs to, as seen from `trace`'s run. */
function role(s: Slice, t: RunTrace): string {
  if (t.router === "kamailio" ? s.comm === "kamailio" : s.pid === t.pid)
    return s.tid === t.pid || t.router === "kamailio" ? "router" : "router's other threads";
  if (s.pid === t.toolPid) return s.tid === t.toolPid ? "tool's main thread" : "tool's other threads";
  if (s.comm === "node") return "other node processes (peers)";
  return s.comm;
}

/** Per role, the CPU time others ran on the CPU where `waits` waited. `all` is sorted by run start. */
function culprits(waits: readonly Slice[], all: readonly Slice[], t: RunTrace): Map<string, number> {
  const byCpu = new Map<number, Slice[]>();
  for (const s of all) {
    const list = byCpu.get(s.cpu);
    if (list === undefined) byCpu.set(s.cpu, [s]);
    else list.push(s);
  }
  const out = new Map<string, number>();
  for (const w of waits) {
    for (const s of byCpu.get(w.cpu) ?? []) {
      if (s.run[0] >= w.wait[1]) break;
      const ran = Math.min(s.run[1], w.wait[1]) - Math.max(s.run[0], w.wait[0]);
      if (ran > 0 && s.tid !== w.tid) out.set(role(s, t), (out.get(role(s, t)) ?? 0) + ran);
    }
  }
  return out;
}

function p99(xs: readonly (number | null)[]): number {
  const s = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return s[Math.floor(s.length * 0.99)] ?? Number.POSITIVE_INFINITY;
}

/** The table for one run file of `dir` (its slow requests: over `overUs`, or its p99). */
export function explain(dir: string, file: string, slices: readonly Slice[], overUs: number | undefined): string {
  const t = JSON.parse(readFileSync(join(dir, file), "utf8")) as RunTrace;
  const over = overUs ?? p99(t.latencyUs);
  const from = slices[0]?.run[0] ?? 0; // sorted by start; the last to end need not be the last to start
  const to = slices.reduce((m, x) => Math.max(m, x.run[1]), from);
  const mine = (s: Slice): boolean => role(s, t) === "router";
  const routerWaits = slices.filter((s) => mine(s) && s.wait[1] - s.wait[0] >= WAIT_NS);
  const causes: [string, Spans][] = [
    ["router's GC pause", new Spans(readGc(join(dir, `${t.router}-${t.pid}.gc.txt`)))],
    ["router waiting for a CPU", new Spans(routerWaits.map((s) => s.wait))],
    [
      "router running > 0.5 ms at a stretch",
      new Spans(slices.filter((s) => mine(s) && s.run[1] - s.run[0] >= LONG_RUN_NS).map((s) => s.run)),
    ],
    ["tool's GC pause", new Spans(readGc(join(dir, "tool-gc.txt")))],
    [
      "tool's main thread waiting for a CPU",
      new Spans(slices.filter((s) => s.tid === t.toolPid && s.wait[1] - s.wait[0] >= WAIT_NS).map((s) => s.wait)),
    ],
  ];
  const hits = new Map<string, number>(causes.map(([name]) => [name, 0]));
  let slow = 0;
  let none = 0;
  const slowWaits = new Set<Slice>();
  t.latencyUs.forEach((lat, i) => {
    const start = t.sentAtNs[i] ?? 0;
    if (lat === null || lat < over || start < from || start + lat * 1000 > to) return;
    slow++;
    const end = start + lat * 1000;
    let any = false;
    for (const [name, spans] of causes) {
      if (!spans.overlaps(start, end)) continue;
      hits.set(name, (hits.get(name) ?? 0) + 1);
      any = true;
    }
    if (!any) none++;
    for (const w of routerWaits) if (w.wait[1] > start && w.wait[0] < end) slowWaits.add(w);
  });
  const pct = (n: number): string => (slow === 0 ? "–" : `${((100 * n) / slow).toFixed(0)} %`);
  let s = `${t.router} (pid ${t.pid}): ${slow} requests took ${Math.round(over)} µs or more within the traced ${((to - from) / 1e9).toFixed(1)} s\n\n`;
  s += "| overlapped by | requests | share |\n|---|---:|---:|\n";
  for (const [name] of causes) s += `| ${name} | ${hits.get(name) ?? 0} | ${pct(hits.get(name) ?? 0)} |\n`;
  s += `| none of these | ${none} | ${pct(none)} |\n\n`;
  const who = [...culprits([...slowWaits], slices, t)].sort((a, b) => b[1] - a[1]).slice(0, 8);
  s += "While the router waited for a CPU in those windows, the CPU ran:\n\n| who | ms |\n|---|---:|\n";
  for (const [name, ns] of who) s += `| ${name} | ${(ns / 1e6).toFixed(1)} |\n`;
  return s;
}

function main(): void {
  const [dir, ...rest] = process.argv.slice(2);
  if (dir === undefined) throw new Error("usage: node dist/bench/tail-causes.js DIR [--over µs]");
  const k = rest.indexOf("--over");
  const over = k >= 0 ? Number(rest[k + 1]) : undefined;
  const slices = readSched(join(dir, "sched.txt"));
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith(".run.json"))
    .sort())
    console.log(explain(dir, f, slices, over));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
