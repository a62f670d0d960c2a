// Turns what one load run measured against each router into the rows of the tool's tables: one
// table per run (metric | evsip | Kamailio | evsip/Kamailio) and, in steps mode, one row per step
// (completed / failed of each router). Markdown, printed and appended to bench/RESULTS.md.
import { summarize, type LatencySummary } from "./latency.js";
import { quantile } from "../support/sipp-stats.js";
import { Cursor } from "./schedule.js";
import { HELD_BACK } from "./oc-client.js";
import type { Outcomes, UacResult } from "./uac.js";
import type { RouterName } from "./targets.js";
import type { ShmUse } from "./kamailio-shm.js";
import type { EvsipVitals } from "./evsip-metrics.js";

/** What one router's run gave. */
export interface RouterRun {
  readonly router: RouterName;
  readonly uac: UacResult;
  /** CPU seconds the router used from just before the first send to the end of the drain. */
  readonly cpuSeconds: number;
  /** The part of cpuSeconds in user mode: the router's own code, without its system calls. */
  readonly userCpuSeconds: number;
  /** CPU seconds the tool itself used over the same span. */
  readonly toolCpuSeconds: number;
  /** Datagrams the kernel dropped at the router's SIP socket over the same span. */
  readonly routerDrops: number;
  readonly memBeforeKb: number;
  readonly memAfterKb: number;
  /** The router's memory (kB, as memoryKb) every --mem-every seconds during the measured run. */
  readonly memSamples: readonly number[];
  /** Kamailio's shared memory at the end of the run (kamcmd core.shmmem). */
  readonly shm?: ShmUse;
  /** evsip's heap, GC and event loop over the run (--evsip-metrics). */
  readonly evsip?: EvsipVitals;
  /** Events the relay scenario's clients received (all clients), when counted. */
  readonly events?: number;
  /** --edge: the edge router's CPU seconds and the datagrams dropped at its socket, over the same span. */
  readonly edge?: { readonly cpuSeconds: number; readonly drops: number };
}

/** One metric's row: a number per router (NaN: not measured), or text. */
interface Metric {
  readonly name: string;
  readonly values: (number | string)[];
  /** Whether an evsip/Kamailio ratio means something for this metric. */
  readonly ratio: boolean;
  readonly digits: number;
}

/** Finals by status code, e.g. "200: 4998, 503: 2". */
function byStatus(o: Outcomes, from = 0, to = o.status.length): string {
  const m = new Map<number, number>();
  for (let i = from; i < to; i++) {
    const s = o.status[i] ?? 0;
    if (s !== 0) m.set(s, (m.get(s) ?? 0) + 1);
  }
  return (
    [...m.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}: ${n}`)
      .join(", ") || "none"
  );
}

function count(o: Outcomes, pred: (status: number, sent: boolean) => boolean, from = 0, to = o.status.length): number {
  let n = 0;
  for (let i = from; i < to; i++) if (pred(o.status[i] ?? 0, o.sent[i] === 1)) n++;
  return n;
}

const ok = (s: number): boolean => s >= 200 && s < 300;

/** Requests held back by the caller on the router's RFC 7339 feedback (--oc): never sent, so never lost. */
function heldBack(o: Outcomes, from = 0, to = o.status.length): number {
  let n = 0;
  for (let i = from; i < to; i++) if (o.sent[i] === HELD_BACK) n++;
  return n;
}

/** Requests sent without a final by the deadline (a held-back one was never sent). */
function lost(o: Outcomes, from = 0, to = o.status.length): number {
  return count(o, (s, sent) => sent && s === 0, from, to);
}

/** Requests that left (all of them but those --oc held back). */
function sentCount(o: Outcomes): number {
  return count(o, (_s, sent) => sent);
}

/** Latency of the requests in [from, to) that got a final. */
function latencies(o: Outcomes, from = 0, to = o.latencyUs.length): LatencySummary {
  const xs: number[] = [];
  for (let i = from; i < to; i++) {
    const v = o.latencyUs[i] ?? Number.NaN;
    if (!Number.isNaN(v)) xs.push(v);
  }
  return summarize(xs);
}

/** Calls completed: a 2xx to the first request, and for calls a 2xx to the BYE too. */
export function completed(u: UacResult, from: number, to: number): number {
  const calls = u.bye.status.length > 0;
  let n = 0;
  for (let i = from; i < to; i++) if (ok(u.first.status[i] ?? 0) && (!calls || ok(u.bye.status[i] ?? 0))) n++;
  return n;
}

function latencyMetrics(label: string, runs: readonly RouterRun[], pick: (r: RouterRun) => Outcomes): Metric[] {
  const s = runs.map((r) => latencies(pick(r)));
  const row = (name: string, f: (x: LatencySummary) => number): Metric => ({
    name: `${label} ${name} (µs)`,
    values: s.map(f),
    ratio: true,
    digits: 0,
  });
  return [
    row("p50", (x) => x.p50),
    row("p90", (x) => x.p90),
    row("p99", (x) => x.p99),
    row("p99.9", (x) => x.p999),
    row("max", (x) => x.max),
  ];
}

/**
 * Share of requests (%) that left less than a quarter of their scheduled gap after the one before:
 * how bunched the input was. Even pacing gives about 0; the timer pacer's ~1 ms ticks at 5,000/s
 * give 70–80, more against one router than another.
 */
export function bunched(u: Pick<UacResult, "schedule" | "pace">): number {
  const { schedule, pace } = u;
  if (schedule.total === 0) return 0;
  let n = 0;
  const c = new Cursor(schedule); // walks the steps once, where dueNs(i) would search them per send
  let before = c.due();
  for (c.next = 1; !c.done; c.next++) {
    const i = c.next;
    const due = c.due();
    const gap = due + (pace.lagNs[i] ?? 0) - (before + (pace.lagNs[i - 1] ?? 0));
    if (gap < (due - before) / 4) n++;
    before = due;
  }
  return (100 * n) / schedule.total;
}

function metrics(runs: readonly RouterRun[], lateUs: number): Metric[] {
  const v = (f: (r: RouterRun) => number | string, name: string, ratio = true, digits = 0): Metric => ({
    name,
    values: runs.map(f),
    ratio,
    digits,
  });
  const first = (r: RouterRun): Outcomes => r.uac.first;
  const calls = runs.some((r) => r.uac.bye.status.length > 0);
  const lag = runs.map((r) => summarize(r.uac.pace.lagNs.map((x) => x / 1000)));
  const okCount = (r: RouterRun): number => completed(r.uac, 0, r.uac.first.status.length);
  const out: Metric[] = [
    v((r) => sentCount(first(r)), "sent"),
    v((r) => byStatus(first(r)), "finals by status", false),
    v((r) => lost(first(r)), "lost (no final by the deadline)"),
    v(okCount, calls ? "calls completed (INVITE 2xx and BYE 2xx)" : "completed (2xx)"),
    ...(runs.some((r) => heldBack(first(r)) > 0)
      ? [v((r) => heldBack(first(r)), "held back by the caller (RFC 7339 oc)", false)]
      : []),
    ...latencyMetrics(calls ? "INVITE→final" : "send→final", runs, first),
  ];
  if (calls) {
    const bye = (r: RouterRun): Outcomes => r.uac.bye;
    out.push(
      v((r) => count(bye(r), (_s, sent) => sent), "BYE sent"),
      v((r) => byStatus(bye(r)), "BYE finals by status", false),
      v((r) => count(bye(r), (s, sent) => sent && s === 0), "BYE lost"),
      ...latencyMetrics("BYE→final", runs, bye),
    );
  }
  out.push(
    v((r) => r.uac.provisionals, "provisionals received", false),
    v((r) => r.uac.strays + r.uac.mismatched, "strays (duplicates, late or unmatched)", false),
    v((r) => r.routerDrops, "datagrams dropped at the router's SIP socket", false),
    v((r) => r.uac.drops, "datagrams dropped at the tool's sockets", false),
    { name: "send lag p50 (µs)", values: lag.map((x) => x.p50), ratio: false, digits: 0 },
    { name: "send lag p99 (µs)", values: lag.map((x) => x.p99), ratio: false, digits: 0 },
    { name: "send lag max (µs)", values: lag.map((x) => x.max), ratio: false, digits: 0 },
    v((r) => r.uac.pace.lagNs.filter((x) => x > lateUs * 1000).length, `late sends (lag > ${lateUs} µs)`, false),
    v((r) => bunched(r.uac), "requests sent within a quarter of their gap of the one before (%)", false, 1),
    v((r) => r.uac.answersAtSender, "answers sent to the sending thread's socket, not the Via's (should be 0)", false),
    v((r) => (r.cpuSeconds * 1e6) / Math.max(1, okCount(r)), "router CPU per completed call (µs)", true, 1),
    v((r) => (r.userCpuSeconds * 1e6) / Math.max(1, okCount(r)), "router user-mode CPU per completed call (µs)", true, 1),
    v((r) => (r.toolCpuSeconds * 1e6) / Math.max(1, sentCount(first(r))), "tool CPU per request sent (µs)", false, 1),
    v((r) => r.memBeforeKb / 1024, "router memory before (MB)", true, 1),
    v((r) => r.memAfterKb / 1024, "router memory after (MB)", true, 1),
    v((r) => (r.memAfterKb - r.memBeforeKb) / 1024, "router memory held (MB)", true, 1),
    v((r) => ((r.memAfterKb - r.memBeforeKb) * 1024) / Math.max(1, okCount(r)), "router memory held per completed call (B)"),
  );
  if (runs.some((r) => r.shm !== undefined)) {
    out.push(
      v((r) => (r.shm?.realUsedKb ?? Number.NaN) / 1024, "Kamailio shared memory in use at the end (MB)", false, 1),
      v((r) => (r.shm?.maxUsedKb ?? Number.NaN) / 1024, "Kamailio shared memory peak since start (MB)", false, 1),
    );
  }
  if (runs.some((r) => r.evsip !== undefined)) out.push(...vitalsMetrics(runs));
  if (runs.some((r) => r.events !== undefined))
    out.push(v((r) => r.events ?? Number.NaN, "evapi events received by the clients"));
  if (runs.some((r) => r.edge !== undefined)) {
    out.push(
      v(
        (r) => ((r.edge?.cpuSeconds ?? Number.NaN) * 1e6) / Math.max(1, okCount(r)),
        "edge router CPU per completed call (µs)",
        true,
        1,
      ),
      v((r) => r.edge?.drops ?? Number.NaN, "datagrams dropped at the edge router's SIP socket", false),
    );
  }
  return out;
}

/** evsip only (--evsip-metrics): heap and external memory apart, GC pauses by kind, loop lag. */
function vitalsMetrics(runs: readonly RouterRun[]): Metric[] {
  const v = (name: string, f: (e: EvsipVitals) => number, digits = 1): Metric => ({
    name: `evsip ${name}`,
    values: runs.map((r) => (r.evsip === undefined ? Number.NaN : f(r.evsip))),
    ratio: false,
    digits,
  });
  const gc = (kind: string, label: string): Metric[] => [
    v(`GC ${label} during the run (count)`, (e) => e.gc.find((g) => g.kind === kind)?.count ?? 0, 0),
    v(`GC ${label} during the run (total ms)`, (e) => e.gc.find((g) => g.kind === kind)?.totalMs ?? 0),
  ];
  return [
    v("heap used before (MB)", (e) => e.heapBeforeMb),
    v("heap used after (MB)", (e) => e.heapAfterMb),
    v("external memory before (MB)", (e) => e.externalBeforeMb),
    v("external memory after (MB)", (e) => e.externalAfterMb),
    ...gc("minor", "scavenges"),
    ...gc("major", "mark-compacts"),
    ...gc("incremental", "incremental marking"),
    v("event-loop delay p99 (ms)", (e) => e.loopLagP99Ms, 2),
    v("event-loop delay max (ms)", (e) => e.loopLagMaxMs, 2),
  ];
}

function fmt(x: number | string, digits: number): string {
  if (typeof x === "string") return x;
  if (Number.isNaN(x)) return "–";
  return x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/**
 * evsip / Kamailio, or NaN when it means nothing: a negative evsip value (memory given back), or a
 * Kamailio value that prints as 0 at the row's `digits` (a ratio of 13,524 against a "0" column).
 */
function ratioOf(e: number, k: number, digits: number): number {
  return e >= 0 && k >= 0.5 * 10 ** -digits ? e / k : Number.NaN;
}

/** The table of one run: a column per router, and the evsip/Kamailio ratio when both ran. */
export function runTable(runs: readonly RouterRun[], lateUs: number): string {
  const both = runs.length === 2 && runs[0]?.router === "evsip" && runs[1]?.router === "kamailio";
  let s = `| metric | ${runs.map((r) => r.router).join(" | ")}${both ? " | evsip/Kamailio" : ""} |\n`;
  s += `|---|${runs.map(() => "---:").join("|")}|${both ? "---:|" : ""}\n`;
  for (const m of metrics(runs, lateUs)) {
    const [e, k] = m.values;
    const r = both && m.ratio && typeof e === "number" && typeof k === "number" ? ratioOf(e, k, m.digits) : Number.NaN;
    const ratio = Number.isNaN(r) ? "" : fmt(r, 2);
    s += `| ${m.name} | ${m.values.map((x) => fmt(x, m.digits)).join(" | ")}${both ? ` | ${ratio}` : ""} |\n`;
  }
  return s;
}

/** min, median (nearest rank, as every percentile here) and max of `xs`, NaN left out; NaNs when none is left. */
export function spread(xs: readonly number[]): { min: number; median: number; max: number } {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return { min: s[0] ?? Number.NaN, median: quantile(s, 0.5), max: s[s.length - 1] ?? Number.NaN };
}

/**
 * --repeat N: one row per metric with a ratio (latencies, losses, CPU, memory; not send lag or the
 * tool's own CPU) over the N runs, each router's median (min–max) and,
 * when both ran, the median (min–max) of the per-run evsip/Kamailio ratios. One run's p99 moves
 * by up to 2.7× here (README, "Under load"), so a target is judged on this band, not on one table.
 */
export function repeatTable(all: readonly (readonly RouterRun[])[], lateUs: number): string {
  const first = all[0];
  if (first === undefined) return "";
  const both = first.length === 2 && first[0]?.router === "evsip" && first[1]?.router === "kamailio";
  // Rows are matched by name: a run may have rows another lacks (Kamailio's shared memory, say).
  const per = all.map((runs) => new Map(metrics(runs, lateUs).map((m) => [m.name, m])));
  const band = (xs: readonly number[], digits: number): string => {
    const b = spread(xs);
    return Number.isNaN(b.median) ? "–" : `${fmt(b.median, digits)} (${fmt(b.min, digits)}–${fmt(b.max, digits)})`;
  };
  let s = `| metric, median (min–max) of ${all.length} runs | ${first.map((r) => r.router).join(" | ")}${both ? " | evsip/Kamailio" : ""} |\n`;
  s += `|---|${first.map(() => "---:").join("|")}|${both ? "---:|" : ""}\n`;
  for (const m of per[0]?.values() ?? []) {
    if (!m.ratio || m.values.some((x) => typeof x !== "number")) continue;
    const col = (j: number): number[] =>
      per.map((ms) => ms.get(m.name)?.values[j]).map((x) => (typeof x === "number" ? x : Number.NaN));
    const cells = first.map((_r, j) => band(col(j), m.digits));
    const ratios = col(0).map((e, i) => ratioOf(e, col(1)[i] ?? Number.NaN, m.digits));
    s += `| ${m.name} | ${cells.join(" | ")}${both ? ` | ${band(ratios, 2)}` : ""} |\n`;
  }
  return s;
}

/** Steps mode: per step, the rate and each router's completed / failed calls, lost among them, and p99. */
export function stepsTable(runs: readonly RouterRun[]): string {
  let s = `| calls/s | ${runs.map((r) => `${r.router} completed / failed | ${r.router} lost | ${r.router} p99 (µs)`).join(" | ")} |\n`;
  s += `|---:|${runs.map(() => "---:|---:|---:").join("|")}|\n`;
  const sched = runs[0]?.uac.schedule;
  if (sched === undefined) return s;
  sched.segments.forEach((seg, k) => {
    const [from, to] = sched.range(k);
    const cells = runs.map((r) => {
      const c = completed(r.uac, from, to);
      const held = heldBack(r.uac.first, from, to);
      const failed = `${fmt(to - from - c, 0)}${held > 0 ? ` (${fmt(held, 0)} held back)` : ""}`;
      return `${fmt(c, 0)} / ${failed} | ${fmt(lost(r.uac.first, from, to), 0)} | ${fmt(latencies(r.uac.first, from, to).p99, 0)}`;
    });
    s += `| ${fmt(seg.rate, 0)} | ${cells.join(" | ")} |\n`;
  });
  return s;
}

/** --mem-every: the router's memory over the measured run, one row per sample, MB. */
export function memoryTable(runs: readonly RouterRun[], every: number): string {
  let s = `| t (s) | ${runs.map((r) => `${r.router} memory (MB)`).join(" | ")} |\n|---:|${runs.map(() => "---:").join("|")}|\n`;
  const rows = Math.max(0, ...runs.map((r) => r.memSamples.length));
  const cell = (r: RouterRun, k: number): string => fmt((r.memSamples[k] ?? Number.NaN) / 1024, 1);
  s += `| 0 | ${runs.map((r) => fmt(r.memBeforeKb / 1024, 1)).join(" | ")} |\n`;
  for (let k = 0; k < rows; k++) s += `| ${fmt((k + 1) * every, 0)} | ${runs.map((r) => cell(r, k)).join(" | ")} |\n`;
  return s;
}
