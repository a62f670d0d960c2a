// Why were a load run's slow requests slow? Puts each request over a latency threshold (the run's
// p99 unless --over) next to what overlapped it, all on the monotonic clock: the router's GC
// pauses, the router waiting for a CPU or running long (perf sched), and the load tool's GC pauses
// and its main thread's waits (it times every answer). The faster requests are counted the same way,
// as the baseline: a cause that overlaps them as often explains nothing. Overlap is not cause, and
// a request can overlap several. Not a bench: a diagnostic, run by bench/tail-causes.sh, which
// records what it reads:
//   DIR/<router>-<pid>.run.json   (load.ts --trace-dir: send times and latencies)
//   DIR/evsip-<pid>.gc.txt        (scripts/gc-log.mjs in evsip)   DIR/tool-gc.txt (the same, in the tool)
//   DIR/sched.txt                 (perf sched timehist of perf sched record -k CLOCK_MONOTONIC)
// Usage: node dist/bench/tail-causes.js DIR [--over µs]
import { createReadStream, existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { summarize } from "./load/latency.js";
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

/** A wait for a CPU shorter than this is ordinary wake-up cost, and not counted. */
const WAIT_NS = 200_000;
/** A stretch on the CPU this long is "running long". */
const LONG_RUN_NS = 500_000;

/** time [cpu] comm[tid/pid] wait sch-delay run: comm may hold spaces, the numbers never do. */
const ROW = /^\s*(\d+\.\d+)\s+\[(\d+)\]\s+(.*)\[(\d+)(?:\/(\d+))?\]\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$/;

/** One timehist row (times in s, delays in ms), or undefined for headers and other lines. */
export function parseSchedRow(line: string): Slice | undefined {
  const m = ROW.exec(line);
  if (m === null) return undefined;
  const end = Number(m[1]) * 1e9;
  const delay = Number(m[7]) * 1e6;
  const run = Number(m[8]) * 1e6;
  const tid = Number(m[4]);
  return {
    cpu: Number(m[2]),
    comm: (m[3] ?? "").trim(),
    tid,
    pid: m[5] === undefined ? tid : Number(m[5]),
    wait: [end - run - delay, end - run],
    run: [end - run, end],
  };
}

/** `perf sched timehist` output, read line by line (it runs to hundreds of MB), sorted by run start. */
export async function readSched(file: string): Promise<Slice[]> {
  const out: Slice[] = [];
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    const s = parseSchedRow(line);
    if (s !== undefined) out.push(s);
  }
  return out.sort((a, b) => a.run[0] - b.run[0]);
}

/** GC pauses from a gc-log.mjs file; undefined when there is none. */
function readGc(file: string): Span[] | undefined {
  if (!existsSync(file)) return undefined;
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [start, ms] = l.split(" ");
      return [Number(start), Number(start) + Number(ms) * 1e6] as const;
    });
}

/** First index of `xs` (sorted by key) whose key is at least `k`. */
function lowerBound<T>(xs: readonly T[], k: number, key: (x: T) => number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(xs[mid] as T) < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Spans sorted by start, with the longest one, so an overlap query starts near its window. */
class Spans {
  private readonly s: Span[];
  private readonly longest: number;
  constructor(spans: readonly Span[]) {
    this.s = [...spans].sort((a, b) => a[0] - b[0]);
    this.longest = this.s.reduce((m, [a, b]) => Math.max(m, b - a), 0); // no spread: a trace holds ~1M
  }

  /** Whether any span overlaps [from, to). */
  overlaps(from: number, to: number): boolean {
    for (let i = lowerBound(this.s, from - this.longest, (x) => x[0]); i < this.s.length; i++) {
      const [a, b] = this.s[i] as Span;
      if (a >= to) break;
      if (b > from) return true;
    }
    return false;
  }
}

/**
 * Who a slice belongs to, seen from `t`'s run. For evsip "router" is its event-loop thread; for
 * Kamailio its processes that do a call's work (UDP receivers, EvAPI, JSON-RPC), or every Kamailio
 * process when the trace does not say which those are.
 */
function role(s: Slice, t: RunTrace): string {
  if (t.router === "kamailio" && s.comm === "kamailio") {
    return t.callWorkers === undefined || t.callWorkers.includes(s.pid) ? "router" : "router's other processes";
  }
  if (t.router === "evsip" && s.pid === t.pid) return s.tid === t.pid ? "router" : "router's other threads";
  if (s.pid === t.toolPid) return s.tid === t.toolPid ? "tool's main thread" : "tool's other threads";
  if (s.comm === "node") return "other node processes (peers)";
  return s.comm;
}

/** Per role, how long others ran on the CPU while `waits` waited for it, ns. */
function culprits(waits: Iterable<Slice>, all: readonly Slice[], t: RunTrace): Map<string, number> {
  const byCpu = new Map<number, Slice[]>();
  for (const s of all) {
    const list = byCpu.get(s.cpu);
    if (list === undefined) byCpu.set(s.cpu, [s]);
    else list.push(s);
  }
  const longest = all.reduce((m, s) => Math.max(m, s.run[1] - s.run[0]), 0);
  const out = new Map<string, number>();
  for (const w of waits) {
    const list = byCpu.get(w.cpu) ?? [];
    for (let i = lowerBound(list, w.wait[0] - longest, (s) => s.run[0]); i < list.length; i++) {
      const s = list[i] as Slice;
      if (s.run[0] >= w.wait[1]) break;
      const ran = Math.min(s.run[1], w.wait[1]) - Math.max(s.run[0], w.wait[0]);
      if (ran > 0) out.set(role(s, t), (out.get(role(s, t)) ?? 0) + ran); // a thread never runs while it waits
    }
  }
  return out;
}

/** The named spans a request may overlap; undefined where nothing was recorded (Kamailio has no GC). */
function causesOf(
  dir: string,
  t: RunTrace,
  slices: readonly Slice[],
  routerWaits: readonly Slice[],
): [string, Spans | undefined][] {
  const mine = (s: Slice): boolean => role(s, t) === "router";
  const gc = (file: string): Spans | undefined => {
    const spans = readGc(join(dir, file));
    return spans === undefined ? undefined : new Spans(spans);
  };
  return [
    ["the router's GC pause", t.router === "evsip" ? gc(`evsip-${t.pid}.gc.txt`) : undefined],
    ["the router waiting for a CPU", new Spans(routerWaits.map((s) => s.wait))],
    [
      "the router running 0.5 ms or more at a stretch",
      new Spans(slices.filter((s) => mine(s) && s.run[1] - s.run[0] >= LONG_RUN_NS).map((s) => s.run)),
    ],
    ["the tool's GC pause", gc("tool-gc.txt")],
    [
      "the tool's main thread waiting for a CPU",
      new Spans(slices.filter((s) => s.tid === t.toolPid && s.wait[1] - s.wait[0] >= WAIT_NS).map((s) => s.wait)),
    ],
  ];
}

/** Requests over and under the threshold, and how many of each every cause overlapped. */
interface Tally {
  readonly slow: number;
  readonly fast: number;
  readonly hits: Map<string, { slow: number; fast: number }>;
  /** Slow requests that overlapped none of the causes. */
  readonly none: number;
  /** Slow requests next to one (i − 1 or i + 1) at or over half the threshold. */
  readonly clustered: number;
  /** The router's waits that overlapped a slow request. */
  readonly slowWaits: Set<Slice>;
}

function tally(
  t: RunTrace,
  causes: readonly [string, Spans | undefined][],
  routerWaits: readonly Slice[],
  window: Span,
  overUs: number,
): Tally {
  const hits = new Map(causes.map(([name]) => [name, { slow: 0, fast: 0 }]));
  let slow = 0;
  let fast = 0;
  let none = 0;
  let clustered = 0;
  const slowWaits = new Set<Slice>();
  t.latencyUs.forEach((lat, i) => {
    const start = t.sentAtNs[i] ?? 0;
    if (lat === null || start < window[0] || start + lat * 1000 > window[1]) return;
    const end = start + lat * 1000;
    const isSlow = lat >= overUs;
    if (isSlow) slow++;
    else fast++;
    let any = false;
    for (const [name, spans] of causes) {
      if (spans === undefined || !spans.overlaps(start, end)) continue;
      const h = hits.get(name);
      if (h !== undefined) h[isSlow ? "slow" : "fast"]++;
      any = true;
    }
    if (!isSlow) return;
    if (!any) none++;
    if ((t.latencyUs[i - 1] ?? 0) >= overUs / 2 || (t.latencyUs[i + 1] ?? 0) >= overUs / 2) clustered++;
    for (const w of routerWaits) if (w.wait[1] > start && w.wait[0] < end) slowWaits.add(w);
  });
  return { slow, fast, hits, none, clustered, slowWaits };
}

const share = (n: number, of: number): string => (of === 0 ? "–" : `${((100 * n) / of).toFixed(0)} %`);

function causesTable(causes: readonly [string, Spans | undefined][], k: Tally): string {
  let s = "| overlapped by | slow requests | share | share of the faster ones |\n|---|---:|---:|---:|\n";
  for (const [name, spans] of causes) {
    const h = k.hits.get(name) ?? { slow: 0, fast: 0 };
    s +=
      spans === undefined
        ? `| ${name} | – | – | – |\n`
        : `| ${name} | ${h.slow} | ${share(h.slow, k.slow)} | ${share(h.fast, k.fast)} |\n`;
  }
  return `${s}| none of these | ${k.none} | ${share(k.none, k.slow)} | |\n`;
}

function culpritTable(k: Tally, slices: readonly Slice[], t: RunTrace): string {
  const who = [...culprits(k.slowWaits, slices, t)].sort((a, b) => b[1] - a[1]).slice(0, 8);
  let s = "While the router waited for a CPU in those windows, the CPU ran:\n\n| who | ms |\n|---|---:|\n";
  for (const [name, ns] of who) s += `| ${name} | ${(ns / 1e6).toFixed(1)} |\n`;
  return s;
}

/** The tables for one run file of `dir`: its slow requests are those at or over `overUs`, or its p99. */
export function explain(dir: string, file: string, slices: readonly Slice[], overUs: number | undefined): string {
  const t = JSON.parse(readFileSync(join(dir, file), "utf8")) as RunTrace;
  const over = overUs ?? summarize(t.latencyUs.filter((x): x is number => x !== null)).p99;
  const from = slices[0]?.run[0] ?? 0; // sorted by start; the last to end need not be the last to start
  const window: Span = [from, slices.reduce((m, x) => Math.max(m, x.run[1]), from)];
  const routerWaits = slices.filter((s) => role(s, t) === "router" && s.wait[1] - s.wait[0] >= WAIT_NS);
  const causes = causesOf(dir, t, slices, routerWaits);
  const k = tally(t, causes, routerWaits, window, over);
  const gcMissing = t.router === "evsip" && causes[0]?.[1] === undefined ? " (no GC log: evsip did not exit cleanly)" : "";
  return (
    `${t.router} (pid ${t.pid}): ${k.slow} requests took ${Math.round(over)} µs or more within the traced ` +
    `${((window[1] - window[0]) / 1e9).toFixed(1)} s; ${k.clustered} of them (${share(k.clustered, k.slow)}) next to ` +
    `one that took at least half that${gcMissing}\n\n${causesTable(causes, k)}\n${culpritTable(k, slices, t)}`
  );
}

async function main(): Promise<void> {
  const [dir, ...rest] = process.argv.slice(2);
  if (dir === undefined) throw new Error("usage: node dist/bench/tail-causes.js DIR [--over µs]");
  const k = rest.indexOf("--over");
  const over = k >= 0 ? Number(rest[k + 1]) : undefined;
  if (over !== undefined && !(over > 0)) throw new Error("--over takes a positive number of µs");
  const slices = await readSched(join(dir, "sched.txt"));
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith(".run.json"))
    .sort())
    console.log(explain(dir, f, slices, over));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
