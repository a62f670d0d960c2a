// Shared by the SIPp macro benches: runs one SIPp UAC phase (rate, count, optional concurrency
// limit, bounded by a timeout) with -trace_stat and -trace_rtt, and turns what it measured into
// MacroRows; plus the evsip/Kamailio ratio rows. Loopback only.
import { fileURLToPath } from "node:url";
import { startSipp, type SippOptions } from "../../test/support/sipp.js";
import type { MacroRow } from "../types.js";
import { readSippRun, type SippRunStats } from "./sipp-stats.js";

/** One load phase: a fixed rate, or (with `limit`) as fast as the peer answers with `limit` calls open. */
export interface Phase {
  readonly label: string;
  readonly rate: number;
  readonly calls: number;
  readonly limit?: number;
  readonly timeoutSec: number;
}

/** A file of the repository's bench/ folder, from dist/bench/support/ or bench/support/. */
export function benchFile(rel: string): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const root = here.includes("/dist/bench/") ? new URL("../../../", import.meta.url) : new URL("../../", import.meta.url);
  return fileURLToPath(new URL(`bench/${rel}`, root));
}

/** Runs a SIPp UAC phase against 127.0.0.1:port and reads its statistics. */
export async function runPhase(
  scenario: string,
  port: number,
  phase: Phase,
  cpuSeconds: () => number,
  extra: Partial<SippOptions> = {},
): Promise<SippRunStats> {
  const cpu0 = cpuSeconds();
  const sipp = await startSipp({
    scenario,
    target: `127.0.0.1:${port}`,
    transport: "u1",
    calls: phase.calls,
    rate: phase.rate,
    ...(phase.limit === undefined ? {} : { limit: phase.limit }),
    timeoutSec: phase.timeoutSec,
    ...extra,
    extraArgs: ["-trace_stat", "-fd", "1", "-trace_rtt", "-rtt_freq", "1", ...(extra.extraArgs ?? [])],
  });
  const res = await sipp.done;
  const cpu = cpuSeconds() - cpu0;
  const stats = readSippRun(res.dir);
  if (stats.successful > 0) stats.cpuUsPerCall = (cpu * 1e6) / stats.successful;
  return stats;
}

/** The rows of one phase against one server. */
export function phaseRows(bench: string, server: string, phase: Phase, s: SippRunStats, what: string): MacroRow[] {
  const name = `${bench} ${server} ${phase.label}`;
  const note = `${s.successful} ok, ${s.failed} failed, ${s.retransmissions} retrans; sipp -r ${phase.rate}${phase.limit === undefined ? "" : ` -l ${phase.limit}`} -m ${phase.calls}`;
  return [
    { name, metric: `${what}/s`, value: s.perSecond, unit: "1/s", note },
    { name, metric: "p50", value: s.p50ms, unit: "ms" },
    { name, metric: "p99", value: s.p99ms, unit: "ms" },
    { name, metric: "server CPU per call", value: s.cpuUsPerCall ?? Number.NaN, unit: "µs" },
  ];
}

/** CPU seconds used by this process so far (evsip runs in process). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * evsip/kamailio ratio rows: throughput (> 1: evsip faster), p99 and CPU per call (< 1: evsip
 * better). A p99 of 0 ms on either side is below SIPp's resolution, so that ratio is left out.
 */
export function ratioRows(bench: string, phase: Phase, evsip: SippRunStats, kam: SippRunStats, what: string): MacroRow[] {
  const name = `${bench} evsip/kamailio ${phase.label}`;
  const p99ok = evsip.p99ms > 0 && kam.p99ms > 0;
  return [
    { name, metric: `${what}/s ratio`, value: evsip.perSecond / kam.perSecond, unit: "×" },
    {
      name,
      metric: "p99 ratio",
      value: p99ok ? evsip.p99ms / kam.p99ms : Number.NaN,
      unit: "×",
      note: p99ok ? "" : `not computed: p99 ${evsip.p99ms} vs ${kam.p99ms} ms, SIPp measures whole ms`,
    },
    {
      name,
      metric: "CPU per call ratio",
      value: (evsip.cpuUsPerCall ?? Number.NaN) / (kam.cpuUsPerCall ?? Number.NaN),
      unit: "×",
    },
  ];
}

/** The note of a "not run" row when the Kamailio side of a bench failed: the first line of the error. */
export function kamailioFailure(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return `kamailio side failed, evsip rows kept: ${text.split("\n")[0]?.slice(0, 200) ?? ""}`;
}
