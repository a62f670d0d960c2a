// Macro bench: stateful relay. SIPp UAC (built-in `uac`: INVITE, 180, 200, ACK, BYE, 200) → proxy
// → SIPp UAS (built-in `uas`), the proxy being evsip (ctx.tm.relay with record-route, in process)
// or Kamailio with t_relay (bench/kamailio/relay.cfg). Calls/s and p50/p99 call setup time
// (INVITE → 200, SIPp's RTD 1), and the evsip/kamailio ratio. Loopback UDP, bounded phases.
import { pino } from "pino";
import { defineApp } from "../src/app.js";
import { Server } from "../src/server.js";
import { freePort, hasSipp, startSipp } from "../test/support/sipp.js";
import type { BenchCase, MacroRow } from "./types.js";
import { hasKamailio, startKamailio } from "../test/support/kamailio.js";
import { benchFile, ownCpuSeconds, phaseRows, ratioRows, runPhase, type Phase } from "./support/sipp-macro.js";
import type { SippRunStats } from "./support/sipp-stats.js";

export const benches: BenchCase[] = [];

const PHASES: readonly Phase[] = [
  { label: "fixed 500 calls/s", rate: 500, calls: 5000, timeoutSec: 30 },
  { label: "closed loop -l 50", rate: 100_000, calls: 20_000, limit: 50, timeoutSec: 30 },
];

/** Record-route the INVITE, relay statefully to the UAS; ACKs of 2xx go statelessly. */
export function relayApp(uas: string) {
  return defineApp({
    request(ctx) {
      if (!ctx.maxfwd.process(10)) {
        ctx.sl.sendReply(483, "Too Many Hops");
        return;
      }
      if (ctx.isMethod("INVITE")) ctx.rr.recordRoute();
      if (ctx.isMethod("ACK")) {
        ctx.forward(uas);
        return;
      }
      ctx.tm.relay(uas);
    },
  });
}

async function withUas<T>(fn: (uasPort: number) => Promise<T>): Promise<T> {
  const uas = await startSipp({ scenario: "uas", transport: "u1", calls: 1_000_000, timeoutSec: 300 });
  await uas.ready;
  try {
    return await fn(uas.port);
  } finally {
    await uas.stop();
  }
}

async function runEvsip(): Promise<SippRunStats[]> {
  return withUas(async (uasPort) => {
    const server = new Server(relayApp(`sip:127.0.0.1:${uasPort}`), {
      listen: ["udp:127.0.0.1:0"],
      logger: pino({ level: "silent" }),
    });
    await server.start();
    const port = server.listeners()[0]?.port ?? 0;
    try {
      const out: SippRunStats[] = [];
      for (const p of PHASES) out.push(await runPhase("uac", port, p, ownCpuSeconds));
      return out;
    } finally {
      await server.stop();
    }
  });
}

async function runKamailio(): Promise<SippRunStats[]> {
  return withUas(async (uasPort) => {
    const port = await freePort();
    const k = await startKamailio(benchFile("kamailio/relay.cfg"), port, { UAS_URI: `"sip:127.0.0.1:${uasPort}"` });
    try {
      const out: SippRunStats[] = [];
      for (const p of PHASES) out.push(await runPhase("uac", port, p, () => k.cpuSeconds()));
      return out;
    } finally {
      await k.stop();
    }
  });
}

/** Stateful relay calls: evsip, Kamailio, ratio. */
export async function macro(): Promise<MacroRow[]> {
  const bench = "sipp relay";
  if (!hasSipp()) return [{ name: bench, metric: "skipped", value: 0, unit: "", note: "sipp is not installed" }];
  const rows: MacroRow[] = [];
  const ev = await runEvsip();
  PHASES.forEach((p, i) => rows.push(...phaseRows(bench, "evsip", p, ev[i] as SippRunStats, "calls")));
  if (!hasKamailio()) {
    rows.push({ name: `${bench} kamailio`, metric: "skipped", value: 0, unit: "", note: "kamailio is not installed" });
    return rows;
  }
  const ka = await runKamailio();
  PHASES.forEach((p, i) => rows.push(...phaseRows(bench, "kamailio", p, ka[i] as SippRunStats, "calls")));
  PHASES.forEach((p, i) => rows.push(...ratioRows(bench, p, ev[i] as SippRunStats, ka[i] as SippRunStats, "calls")));
  return rows;
}
