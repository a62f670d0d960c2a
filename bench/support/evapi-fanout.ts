// The fan-out half of the evapi macro bench: SIPp sends OPTIONS at a fixed rate to a router whose
// route relays one small event per OPTIONS to every evapi client; n counting clients (bench-peer
// "count", a child process) tell how many events arrived, over what span, and how many were lost.
import type { MacroRow } from "../types.js";
import { benchFile, runPhase, type Phase } from "./sipp-macro.js";
import type { SippRunStats } from "./sipp-stats.js";
import { startPeer, waitEvapiReady, type Peer } from "./peer-process.js";
import type { PeerStats } from "./bench-peer.js";

/** A router under test: its SIP and evapi ports, CPU seconds so far, stop. */
export interface Router {
  readonly sipPort: number;
  readonly evapiPort: number;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** What one fan-out run measured. */
export interface FanoutResult {
  readonly clients: number;
  readonly sipp: SippRunStats;
  /** Events received by all clients together. */
  readonly received: number;
  /** Events expected: clients × successful OPTIONS (each answered after its relay). */
  readonly expected: number;
  /** Fewest events received by one client. */
  readonly minPerClient: number;
  /** Received events per second, all clients together, over first-to-last arrival. */
  readonly eventsPerSecond: number;
}

const sum = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0);

/** Polls the peer until every client has `want` events or the counts stop moving (bounded). */
async function drained(peer: Peer, want: number, ms = 5000): Promise<PeerStats> {
  const end = Date.now() + ms;
  let prev = -1;
  let still = 0;
  for (;;) {
    const s = await peer.stats();
    const total = sum(s.counts);
    if (Math.min(...s.counts) >= want || Date.now() > end) return s;
    still = total === prev ? still + 1 : 0;
    if (still >= 5) return s;
    prev = total;
    await new Promise<void>((r) => setTimeout(r, 100));
  }
}

/** One fan-out run against a fresh router with `n` counting clients. */
export async function runFanout(start: () => Promise<Router>, n: number, phase: Phase): Promise<FanoutResult> {
  const r = await start();
  let peer: Peer | undefined;
  try {
    peer = await startPeer("count", [r.evapiPort, n]);
    await waitEvapiReady(r.sipPort, peer);
    const sipp = await runPhase(benchFile("sipp/uac-options.xml"), r.sipPort, phase, () => r.cpuSeconds());
    const s = await drained(peer, sipp.successful);
    const span = Math.max(...s.last) - Math.min(...s.first);
    const received = sum(s.counts);
    return {
      clients: n,
      sipp,
      received,
      expected: n * sipp.successful,
      minPerClient: Math.min(...s.counts),
      eventsPerSecond: span > 0 ? (received * 1000) / span : Number.NaN,
    };
  } finally {
    await peer?.stop();
    await r.stop();
  }
}

/** Rows of one fan-out run. */
export function fanoutRows(bench: string, server: string, phase: Phase, f: FanoutResult): MacroRow[] {
  const name = `${bench} ${server} ${phase.label} → ${f.clients} client${f.clients > 1 ? "s" : ""}`;
  const s = f.sipp;
  const lost = Math.max(0, f.expected - f.received);
  const note = `${s.successful} OPTIONS ok, ${s.failed} failed, ${s.retransmissions} retrans; sipp -r ${phase.rate} -m ${phase.calls}`;
  return [
    { name, metric: "events/s received, total", value: f.eventsPerSecond, unit: "1/s", note },
    { name, metric: "events/s received, per client", value: f.eventsPerSecond / f.clients, unit: "1/s" },
    {
      name,
      metric: "events lost",
      value: lost,
      unit: "events",
      note: `${f.received} received of ${f.expected} expected (${f.clients} × OPTIONS answered); fewest on one client ${f.minPerClient}`,
    },
    { name, metric: "OPTIONS p99", value: s.p99ms, unit: "ms" },
    { name, metric: "server CPU per OPTIONS", value: s.cpuUsPerCall ?? Number.NaN, unit: "µs" },
  ];
}

/** evsip/kamailio ratios of one fan-out size: events/s (> 1: evsip faster), CPU per OPTIONS (< 1: evsip cheaper). */
export function fanoutRatioRows(bench: string, phase: Phase, ev: FanoutResult, ka: FanoutResult): MacroRow[] {
  const name = `${bench} evsip/kamailio ${phase.label} → ${ev.clients} client${ev.clients > 1 ? "s" : ""}`;
  return [
    { name, metric: "events/s ratio", value: ev.eventsPerSecond / ka.eventsPerSecond, unit: "×" },
    {
      name,
      metric: "CPU per OPTIONS ratio",
      value: (ev.sipp.cpuUsPerCall ?? Number.NaN) / (ka.sipp.cpuUsPerCall ?? Number.NaN),
      unit: "×",
    },
  ];
}
