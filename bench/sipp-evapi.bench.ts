// Macro bench: the event API under SIP load, evsip against Kamailio 5.6 (bench/kamailio/evapi.cfg).
// (a) async round trip: SIPp INVITE → router suspends and sends the event with tindex/tlabel → an
//     EvapiClient answering "allow" (bench-peer.ts, a child process, same code for both) →
//     message-received → continue → RESUME answers 200 → SIPp ACK. Calls/s, p50/p99 setup time.
// (b) fan-out: SIPp OPTIONS at a fixed rate, each relayed as a small event to 1 or 8 plain counting
//     clients and answered 200; events/s received, per client, and events lost. Loopback, bounded.
import { pino } from "pino";
import { defineApp } from "../src/app.js";
import { Server, serverInternals } from "../src/server.js";
import type { EvapiModule } from "../src/modules/evapi/index.js";
import { freePort, hasSipp } from "../test/support/sipp.js";
import type { BenchCase, MacroRow } from "./types.js";
import { hasKamailio, startKamailio } from "../test/support/kamailio.js";
import { benchFile, kamailioFailure, ownCpuSeconds, phaseRows, ratioRows, runPhase, type Phase } from "./support/sipp-macro.js";
import type { SippRunStats } from "./support/sipp-stats.js";
import { startPeer, waitEvapiReady } from "./support/peer-process.js";
import { fanoutRatioRows, fanoutRows, runFanout, type FanoutResult, type Router } from "./support/evapi-fanout.js";

export const benches: BenchCase[] = [];

const WARMUP: Phase = { label: "warm-up", rate: 1000, calls: 2000, timeoutSec: 20 };
const ASYNC: readonly Phase[] = [
  { label: "async fixed 500 calls/s", rate: 500, calls: 5000, timeoutSec: 30 },
  { label: "async closed loop -l 50", rate: 100_000, calls: 20_000, limit: 50, timeoutSec: 30 },
];
const FANOUT: readonly Phase[] = [
  { label: "fan-out OPTIONS 5000/s", rate: 5000, calls: 50_000, timeoutSec: 30 },
  { label: "fan-out OPTIONS 10000/s", rate: 10_000, calls: 50_000, timeoutSec: 30 },
];
const CLIENTS = [1, 8] as const;
/** The fan-out runs in order: every rate with every client count. */
const RUNS = FANOUT.flatMap((phase) => CLIENTS.map((n) => ({ phase, n })));

/** Suspends INVITEs on an evapi round trip; relays one event per OPTIONS. */
export const evapiApp = defineApp({
  modules: { evapi: { bindAddr: "127.0.0.1:0", maxClients: 16 } },
  request(ctx) {
    if (!ctx.maxfwd.process(10)) {
      ctx.sl.sendReply(483, "Too Many Hops");
      return;
    }
    if (ctx.isMethod("ACK")) return;
    if (ctx.isMethod("OPTIONS")) {
      ctx.evapi.relay({ event: "options", ci: ctx.pv("$ci") });
      ctx.sl.sendReply(200, "OK");
      return;
    }
    if (ctx.isMethod("INVITE")) {
      const n = ctx.evapi.asyncRelay((t) => ({ event: "invite", tindex: t.index, tlabel: t.label, ci: ctx.pv("$ci") }));
      if (n === 0) ctx.tm.reply(503, "No Event Client");
      return;
    }
    ctx.sl.sendReply(405, "Method Not Allowed");
    return;
  },
  routes: {
    RESUME(ctx) {
      ctx.tm.reply(200, "OK");
    },
  },
  events: {
    "evapi:message-received"(ctx) {
      const m = JSON.parse(ctx.evapi.msg) as { tindex: number; tlabel: number };
      ctx.tm.continue(m.tindex, m.tlabel, "RESUME");
    },
  },
});

async function startEvsip(): Promise<Router> {
  const server = new Server(evapiApp, { listen: ["udp:127.0.0.1:0"], logger: pino({ level: "silent" }) });
  await server.start();
  return {
    sipPort: server.listeners()[0]?.port ?? 0,
    evapiPort: (serverInternals(server).modules.get("evapi") as EvapiModule).address().port,
    cpuSeconds: ownCpuSeconds,
    stop: () => server.stop(),
  };
}

async function startKam(): Promise<Router> {
  const sipPort = await freePort();
  const evapiPort = await freePort();
  const k = await startKamailio(
    benchFile("kamailio/evapi.cfg"),
    sipPort,
    { EVAPI_ADDR: `"127.0.0.1:${evapiPort}"` },
    { evapiPort },
  );
  return { sipPort, evapiPort, cpuSeconds: () => k.cpuSeconds(), stop: () => k.stop() };
}

async function runAsync(start: () => Promise<Router>): Promise<SippRunStats[]> {
  const r = await start();
  const peer = await startPeer("answer", [r.evapiPort]).catch(async (e: unknown) => {
    await r.stop();
    throw e;
  });
  try {
    await waitEvapiReady(r.sipPort, peer);
    const scenario = benchFile("sipp/uac-invite-local.xml");
    await runPhase(scenario, r.sipPort, WARMUP, () => r.cpuSeconds());
    const out: SippRunStats[] = [];
    for (const p of ASYNC) out.push(await runPhase(scenario, r.sipPort, p, () => r.cpuSeconds()));
    return out;
  } finally {
    await peer.stop();
    await r.stop();
  }
}

async function runAll(
  server: string,
  start: () => Promise<Router>,
  rows: MacroRow[],
): Promise<{ a: SippRunStats[]; b: FanoutResult[] }> {
  const a = await runAsync(start);
  ASYNC.forEach((p, i) => rows.push(...phaseRows("sipp evapi", server, p, a[i] as SippRunStats, "calls")));
  const b: FanoutResult[] = [];
  for (const { phase, n } of RUNS) {
    const f = await runFanout(start, n, phase);
    b.push(f);
    rows.push(...fanoutRows("sipp evapi", server, phase, f));
  }
  return { a, b };
}

/** Async round trips and event fan-out: evsip, Kamailio, ratio. */
export async function macro(): Promise<MacroRow[]> {
  const bench = "sipp evapi";
  if (!hasSipp()) return [{ name: bench, metric: "skipped", value: 0, unit: "", note: "sipp is not installed" }];
  const rows: MacroRow[] = [];
  const ev = await runAll("evsip", startEvsip, rows);
  if (!hasKamailio()) {
    rows.push({ name: `${bench} kamailio`, metric: "skipped", value: 0, unit: "", note: "kamailio is not installed" });
    return rows;
  }
  let ka: { a: SippRunStats[]; b: FanoutResult[] };
  try {
    ka = await runAll("kamailio", startKam, rows);
  } catch (e) {
    rows.push({ name: `${bench} kamailio`, metric: "not run", value: 0, unit: "", note: kamailioFailure(e) });
    return rows;
  }
  ASYNC.forEach((p, i) => rows.push(...ratioRows(bench, p, ev.a[i] as SippRunStats, ka.a[i] as SippRunStats, "calls")));
  RUNS.forEach(({ phase }, i) => rows.push(...fanoutRatioRows(bench, phase, ev.b[i] as FanoutResult, ka.b[i] as FanoutResult)));
  return rows;
}
