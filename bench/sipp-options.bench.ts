// Macro bench: SIPp UAC sends OPTIONS over UDP to evsip answering statelessly (an in-process Server
// with a hello-like app, logLevel silent), then to Kamailio with the same logic
// (bench/kamailio/options.cfg); replies/s and p50/p99 response time from SIPp's own statistics, and
// the evsip/kamailio ratio. Two phases: a fixed rate, and a closed loop (-l) that finds capacity.
import { pino } from "pino";
import { defineApp } from "../src/app.js";
import { Server } from "../src/server.js";
import { freePort, hasSipp } from "../test/support/sipp.js";
import type { BenchCase, MacroRow } from "./types.js";
import { hasKamailio, startKamailio } from "../test/support/kamailio.js";
import { benchFile, ownCpuSeconds, phaseRows, ratioRows, runPhase, type Phase } from "./support/sipp-macro.js";
import type { SippRunStats } from "./support/sipp-stats.js";

export const benches: BenchCase[] = [];

const PHASES: readonly Phase[] = [
  { label: "fixed 5000/s", rate: 5000, calls: 50_000, timeoutSec: 25 },
  { label: "closed loop -l 100", rate: 100_000, calls: 100_000, limit: 100, timeoutSec: 25 },
];

/** The hello app's OPTIONS logic, without its per-request log line. */
export const optionsApp = defineApp({
  request(ctx) {
    if (!ctx.maxfwd.process(10)) {
      ctx.sl.sendReply(483, "Too Many Hops");
      return;
    }
    if (ctx.isMethod("OPTIONS") && ctx.pv("$rU") === null) {
      ctx.sl.sendReply(200, "OK");
      return;
    }
    ctx.forward();
  },
});

const SCENARIO = (): string => benchFile("sipp/uac-options.xml");

async function runEvsip(): Promise<SippRunStats[]> {
  const server = new Server(optionsApp, { listen: ["udp:127.0.0.1:0"], logger: pino({ level: "silent" }) });
  await server.start();
  const port = server.listeners()[0]?.port ?? 0;
  try {
    const out: SippRunStats[] = [];
    for (const p of PHASES) out.push(await runPhase(SCENARIO(), port, p, ownCpuSeconds));
    return out;
  } finally {
    await server.stop();
  }
}

async function runKamailio(): Promise<SippRunStats[]> {
  const port = await freePort();
  const k = await startKamailio(benchFile("kamailio/options.cfg"), port);
  try {
    const out: SippRunStats[] = [];
    for (const p of PHASES) out.push(await runPhase(SCENARIO(), port, p, () => k.cpuSeconds()));
    return out;
  } finally {
    await k.stop();
  }
}

/** OPTIONS answered statelessly: evsip, Kamailio, ratio. */
export async function macro(): Promise<MacroRow[]> {
  const bench = "sipp OPTIONS";
  if (!hasSipp()) return [{ name: bench, metric: "skipped", value: 0, unit: "", note: "sipp is not installed" }];
  const rows: MacroRow[] = [];
  const ev = await runEvsip();
  PHASES.forEach((p, i) => rows.push(...phaseRows(bench, "evsip", p, ev[i] as SippRunStats, "replies")));
  if (!hasKamailio()) {
    rows.push({ name: `${bench} kamailio`, metric: "skipped", value: 0, unit: "", note: "kamailio is not installed" });
    return rows;
  }
  const ka = await runKamailio();
  PHASES.forEach((p, i) => rows.push(...phaseRows(bench, "kamailio", p, ka[i] as SippRunStats, "replies")));
  PHASES.forEach((p, i) => rows.push(...ratioRows(bench, p, ev[i] as SippRunStats, ka[i] as SippRunStats, "replies")));
  return rows;
}
