// Macro bench: jsonrpc_request under SIP load, evsip against Kamailio 5.6's jsonrpcc
// (bench/kamailio/jsonrpc.cfg). SIPp INVITE → the router suspends it with
// ctx.jsonrpc.request("route", params, "RET", "ERR", "$var(r)") / jsonrpc_request → a
// createJsonRpcServer service (bench-peer.ts "jsonrpc", a child process, the same for both) → RET
// answers 200 → SIPp ACK. Calls/s, p50/p99 setup time, CPU per call and the ratio. Kamailio's
// timeout is fixed at 500 ms (evsip's default is the same); ERR answers 503, counted as failed.
import { pino } from "pino";
import { defineApp } from "../src/app.js";
import { Server } from "../src/server.js";
import { freePort, hasSipp } from "../test/support/sipp.js";
import type { BenchCase, MacroRow } from "./types.js";
import { hasKamailio, startKamailio } from "../test/support/kamailio.js";
import { benchFile, kamailioFailure, ownCpuSeconds, phaseRows, ratioRows, runPhase, type Phase } from "./support/sipp-macro.js";
import type { SippRunStats } from "./support/sipp-stats.js";
import { startPeer, waitRpcConnected } from "./support/peer-process.js";

export const benches: BenchCase[] = [];

const WARMUP: Phase = { label: "warm-up", rate: 1000, calls: 2000, timeoutSec: 20 };
const PHASES: readonly Phase[] = [
  { label: "jsonrpc fixed 500 calls/s", rate: 500, calls: 5000, timeoutSec: 30 },
  // Below 500 in flight: Kamailio's 500-bucket pending table loses chained entries beyond that.
  { label: "jsonrpc closed loop -l 50", rate: 100_000, calls: 20_000, limit: 50, timeoutSec: 30 },
];

/** Routes each INVITE through a jsonrpc_request to `servers` and answers it from RET or ERR. */
export function jsonrpcApp(servers: string) {
  return defineApp({
    modules: { jsonrpcc: { servers, timeout: 500 } },
    request(ctx) {
      if (!ctx.maxfwd.process(10)) {
        ctx.sl.sendReply(483, "Too Many Hops");
        return;
      }
      if (ctx.isMethod("ACK")) return;
      if (ctx.isMethod("INVITE")) {
        // jsonrpc_request("route", "{'user': '$rU'}", "RET", "ERR", "$var(r)");
        ctx.jsonrpc.request("route", { user: ctx.pv("$rU") }, "RET", "ERR", "$var(r)");
        return;
      }
      ctx.sl.sendReply(405, "Method Not Allowed");
      return;
    },
    routes: {
      RET(ctx) {
        ctx.tm.reply(200, "OK");
      },
      ERR(ctx) {
        ctx.tm.reply(503, "Service Unavailable");
      },
    },
  });
}

interface Router {
  readonly sipPort: number;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

async function startEvsip(servicePort: number): Promise<Router> {
  const server = new Server(jsonrpcApp(`127.0.0.1:${servicePort},1`), {
    listen: ["udp:127.0.0.1:0"],
    logger: pino({ level: "silent" }),
  });
  await server.start();
  return { sipPort: server.listeners()[0]?.port ?? 0, cpuSeconds: ownCpuSeconds, stop: () => server.stop() };
}

async function startKam(servicePort: number): Promise<Router> {
  const sipPort = await freePort();
  const k = await startKamailio(benchFile("kamailio/jsonrpc.cfg"), sipPort, { JSONRPC_SERVERS: `"127.0.0.1:${servicePort},1"` });
  return { sipPort, cpuSeconds: () => k.cpuSeconds(), stop: () => k.stop() };
}

async function run(start: (servicePort: number) => Promise<Router>): Promise<SippRunStats[]> {
  const peer = await startPeer("jsonrpc");
  try {
    const r = await start(peer.port);
    try {
      await waitRpcConnected(peer);
      const scenario = benchFile("sipp/uac-invite-local.xml");
      await runPhase(scenario, r.sipPort, WARMUP, () => r.cpuSeconds());
      const out: SippRunStats[] = [];
      for (const p of PHASES) out.push(await runPhase(scenario, r.sipPort, p, () => r.cpuSeconds()));
      return out;
    } finally {
      await r.stop();
    }
  } finally {
    await peer.stop();
  }
}

/** INVITEs routed through a JSON-RPC service: evsip, Kamailio, ratio. */
export async function macro(): Promise<MacroRow[]> {
  const bench = "sipp jsonrpc";
  if (!hasSipp()) return [{ name: bench, metric: "skipped", value: 0, unit: "", note: "sipp is not installed" }];
  const rows: MacroRow[] = [];
  const ev = await run(startEvsip);
  PHASES.forEach((p, i) => rows.push(...phaseRows(bench, "evsip", p, ev[i] as SippRunStats, "calls")));
  if (!hasKamailio()) {
    rows.push({ name: `${bench} kamailio`, metric: "skipped", value: 0, unit: "", note: "kamailio is not installed" });
    return rows;
  }
  let ka: SippRunStats[];
  try {
    ka = await run(startKam);
  } catch (e) {
    rows.push({ name: `${bench} kamailio`, metric: "not run", value: 0, unit: "", note: kamailioFailure(e) });
    return rows;
  }
  PHASES.forEach((p, i) => rows.push(...phaseRows(bench, "kamailio", p, ka[i] as SippRunStats, "calls")));
  PHASES.forEach((p, i) => rows.push(...ratioRows(bench, p, ev[i] as SippRunStats, ka[i] as SippRunStats, "calls")));
  return rows;
}
