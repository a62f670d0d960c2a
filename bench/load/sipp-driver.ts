// The SIPp-driven run of the load tool: the same routers and peers, but SIPp as the caller, with
// its default socket buffers and its own retransmissions, because that is what users point at a
// router. SIPp counts whole milliseconds; what matters here is the failed calls column.
import { benchFile, runPhase, type Phase } from "../support/sipp-macro.js";
import type { SippRunStats } from "../support/sipp-stats.js";
import type { Scenario, Target } from "./targets.js";
import type { SippTransport } from "./args.js";
import { freePort } from "../../test/support/sipp.js";
import { udpDrops } from "./proc-usage.js";
import type { Uas } from "./uas.js";
import { scrape } from "./evsip-metrics.js";

/** What one router's SIPp run gave. */
export interface SippRouterRun {
  readonly router: string;
  readonly stats: SippRunStats;
  readonly calls: number;
  readonly memBeforeKb: number;
  readonly memAfterKb: number;
  /** Datagrams dropped at SIPp's socket (its last reading while SIPp ran, polled every 50 ms). */
  readonly sippDrops: number;
  /** Datagrams dropped at the router's SIP socket during the phase. */
  readonly routerDrops: number;
  /** The proxy scenario's UAS: INVITE 200s it re-sent for want of an ACK (uas.ts) in the measured run. */
  readonly uasResent?: number;
  /** evsip with --evsip-metrics: what its counters moved by in the measured run. */
  readonly evsip?: RouterCounters;
}

/** An overload's own work, from evsip's /metrics: what it refused, and what tm re-sent or absorbed. */
interface RouterCounters {
  readonly refused: number;
  readonly retransmissionsSent: number;
  readonly retransmissionsAbsorbed: number;
}

/** The sum of every series of `name` (any labels). */
function total(m: Map<string, number>, name: string): number {
  let sum = 0;
  for (const [k, v] of m) if (k === name || k.startsWith(`${name}{`)) sum += v;
  return sum;
}

function countersBetween(before: Map<string, number>, after: Map<string, number>): RouterCounters {
  const d = (name: string): number => total(after, name) - total(before, name);
  return {
    refused: d("evsip_core_admission_refused_total"),
    retransmissionsSent: d("evsip_tm_retransmissions_sent_total"),
    retransmissionsAbsorbed: d("evsip_tm_retransmissions_absorbed_total"),
  };
}

/**
 * SIPp's warm-up: `given` (--warmup seconds at --warmup-rate), else two seconds at the measured
 * rate, at most 1,000 calls/s.
 */
export function warmUpPhase(rate: number, given?: { seconds: number; rate: number }): Phase {
  if (given !== undefined) {
    const r = Math.max(1, Math.round(given.rate));
    return { label: "warm-up", rate: r, calls: Math.round(r * given.seconds), timeoutSec: given.seconds + 20 };
  }
  // Below 1,000/s (a router capped to show its overload) a fixed 1,000/s was itself past the
  // ceiling: the measured run began just after an overload, its queue and refusals.
  const r = Math.min(1000, Math.max(1, Math.round(rate)));
  return { label: "warm-up", rate: r, calls: 2 * r, timeoutSec: 20 };
}

function scenarioFile(s: Scenario): string {
  if (s === "relay") return benchFile("sipp/uac-options.xml");
  if (s === "proxy") return "uac";
  return benchFile("sipp/uac-invite-local.xml");
}

/**
 * One SIPp phase at `rate` for `seconds` against a started target (after the `warm` phase unless
 * cold: undefined), over `transport` (t1: one TCP connection, which the target must listen on).
 */
export async function runSippOn(
  t: Target,
  scenario: Scenario,
  rate: number,
  seconds: number,
  warm: Phase | undefined,
  transport: SippTransport = "u1",
  uas?: Uas,
): Promise<SippRouterRun> {
  const file = scenarioFile(scenario);
  if (warm !== undefined) await runPhase(file, t.sipPort, warm, () => t.cpuSeconds(), { transport });
  // The warm-up's calls (and an earlier router's) are not this run's: their 200s are not re-sent
  // into it, nor counted.
  uas?.forget();
  const resent0 = uas?.resent() ?? 0;
  const calls = Math.round(rate * seconds);
  const counters0 = t.metricsPort === undefined ? undefined : await scrape(t.metricsPort);
  const memBeforeKb = t.memoryKb();
  const drops0 = udpDrops([t.measuredPort]);
  // SIPp's socket vanishes with SIPp: its drop counter is read while it runs.
  const sippPort = await freePort();
  let sippDrops = 0;
  const poll = setInterval(() => (sippDrops = Math.max(sippDrops, udpDrops([sippPort]))), 50);
  try {
    const phase = { label: scenario, rate, calls, timeoutSec: seconds + 15 };
    const stats = await runPhase(file, t.sipPort, phase, () => t.cpuSeconds(), { port: sippPort, transport });
    const routerDrops = udpDrops([t.measuredPort]) - drops0;
    const run = { router: t.router, stats, calls, memBeforeKb, memAfterKb: t.memoryKb(), sippDrops, routerDrops };
    const evsip =
      counters0 === undefined || t.metricsPort === undefined
        ? undefined
        : countersBetween(counters0, await scrape(t.metricsPort));
    return {
      ...run,
      ...(uas === undefined ? {} : { uasResent: uas.resent() - resent0 }),
      ...(evsip === undefined ? {} : { evsip }),
    };
  } finally {
    clearInterval(poll);
  }
}

function fmt(x: number, digits = 0): string {
  return Number.isNaN(x) ? "–" : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** metric | router… | evsip/Kamailio. */
export function sippTable(runs: readonly SippRouterRun[]): string {
  const both = runs.length === 2;
  const rows: [string, (r: SippRouterRun) => number, number][] = [
    ["calls started", (r) => r.calls, 0],
    ["successful", (r) => r.stats.successful, 0],
    ["failed (SIPp's count)", (r) => r.stats.failed, 0],
    ["not successful (started − successful: failed, or unanswered at SIPp's timeout)", (r) => r.calls - r.stats.successful, 0],
    ["retransmissions (SIPp's)", (r) => r.stats.retransmissions, 0],
    ["datagrams dropped at SIPp's socket", (r) => r.sippDrops, 0],
    ["datagrams dropped at the router's SIP socket", (r) => r.routerDrops, 0],
    ["UAS: INVITE 200s re-sent for want of an ACK", (r) => r.uasResent ?? Number.NaN, 0],
    ["p50 (ms, SIPp's whole ms)", (r) => r.stats.p50ms, 0],
    ["p99 (ms, SIPp's whole ms)", (r) => r.stats.p99ms, 0],
    ["max (ms)", (r) => r.stats.maxms, 0],
    ["router CPU per successful call (µs)", (r) => r.stats.cpuUsPerCall ?? Number.NaN, 1],
    ["router memory before (MB)", (r) => r.memBeforeKb / 1024, 1],
    ["router memory after (MB)", (r) => r.memAfterKb / 1024, 1],
  ];
  // evsip's own counters (--evsip-metrics): an overload's refusals, and tm's re-sends and absorbed copies.
  if (runs.some((r) => r.evsip !== undefined)) {
    rows.push(
      ["evsip: new calls refused (503)", (r) => r.evsip?.refused ?? Number.NaN, 0],
      ["evsip: tm retransmissions sent", (r) => r.evsip?.retransmissionsSent ?? Number.NaN, 0],
      ["evsip: retransmissions absorbed", (r) => r.evsip?.retransmissionsAbsorbed ?? Number.NaN, 0],
    );
  }
  let s = `| metric | ${runs.map((r) => r.router).join(" | ")}${both ? " | evsip/Kamailio" : ""} |\n|---|${runs.map(() => "---:").join("|")}|${both ? "---:|" : ""}\n`;
  for (const [name, f, d] of rows) {
    const v = runs.map(f);
    const ratio = both && (v[1] ?? 0) !== 0 ? fmt((v[0] ?? 0) / (v[1] ?? 1), 2) : "";
    s += `| ${name} | ${v.map((x) => fmt(x, d)).join(" | ")}${both ? ` | ${ratio}` : ""} |\n`;
  }
  return s;
}
