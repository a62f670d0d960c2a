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
}

/** SIPp's warm-up: two seconds at the measured rate, at most 1,000 calls/s. */
export function warmUpPhase(rate: number): Phase {
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
 * One SIPp phase at `rate` for `seconds` against a started target (after SIPp's warm-up unless
 * cold), over `transport` (t1: one TCP connection, which the target must listen on).
 */
export async function runSippOn(
  t: Target,
  scenario: Scenario,
  rate: number,
  seconds: number,
  cold: boolean,
  transport: SippTransport = "u1",
  uas?: Uas,
): Promise<SippRouterRun> {
  const file = scenarioFile(scenario);
  if (!cold) await runPhase(file, t.sipPort, warmUpPhase(rate), () => t.cpuSeconds(), { transport });
  // The warm-up's calls (and an earlier router's) are not this run's: their 200s are not re-sent
  // into it, nor counted.
  uas?.forget();
  const resent0 = uas?.resent() ?? 0;
  const calls = Math.round(rate * seconds);
  const memBeforeKb = t.memoryKb();
  const drops0 = udpDrops([t.sipPort]);
  // SIPp's socket vanishes with SIPp: its drop counter is read while it runs.
  const sippPort = await freePort();
  let sippDrops = 0;
  const poll = setInterval(() => (sippDrops = Math.max(sippDrops, udpDrops([sippPort]))), 50);
  try {
    const phase = { label: scenario, rate, calls, timeoutSec: seconds + 15 };
    const stats = await runPhase(file, t.sipPort, phase, () => t.cpuSeconds(), { port: sippPort, transport });
    const routerDrops = udpDrops([t.sipPort]) - drops0;
    const run = { router: t.router, stats, calls, memBeforeKb, memAfterKb: t.memoryKb(), sippDrops, routerDrops };
    return uas === undefined ? run : { ...run, uasResent: uas.resent() - resent0 };
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
  let s = `| metric | ${runs.map((r) => r.router).join(" | ")}${both ? " | evsip/Kamailio" : ""} |\n|---|${runs.map(() => "---:").join("|")}|${both ? "---:|" : ""}\n`;
  for (const [name, f, d] of rows) {
    const v = runs.map(f);
    const ratio = both && (v[1] ?? 0) !== 0 ? fmt((v[0] ?? 0) / (v[1] ?? 1), 2) : "";
    s += `| ${name} | ${v.map((x) => fmt(x, d)).join(" | ")}${both ? ` | ${ratio}` : ""} |\n`;
  }
  return s;
}
