// Profiling harness, not a bench case: starts one evsip Server in process with the app of a SIPp
// macro bench (options | relay | dialog | evapi), runs bounded SIPp phases and prints the server CPU per
// call. Run it under `node --cpu-prof` to see where the router spends its time:
//   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/profile-sipp.js relay [calls] [rate]
//   node scripts/cpuprofile-top.mjs /tmp/prof/*.cpuprofile
import { pino } from "pino";
import { Server, serverInternals } from "../src/server.js";
import type { EvapiModule } from "../src/modules/evapi/index.js";
import { startSipp } from "../test/support/sipp.js";
import { benchFile, ownCpuSeconds, runPhase, type Phase } from "./support/sipp-macro.js";
import { optionsApp } from "./sipp-options.bench.js";
import { relayApp } from "./sipp-relay.bench.js";
import { dialogRelayApp } from "./sipp-dialog.bench.js";
import { evapiApp } from "./sipp-evapi.bench.js";
import { startPeer, waitEvapiReady } from "./support/peer-process.js";

const [mode = "options", callsArg, rateArg] = process.argv.slice(2);
const calls = Number(callsArg ?? (mode === "options" ? 100_000 : 20_000));
const rate = Number(rateArg ?? 100_000);
/** Closed loop by default (as fast as the server answers, bounded concurrency). */
const phase: Phase = { label: mode, rate, calls, limit: mode === "options" ? 100 : 50, timeoutSec: 120 };
const logger = pino({ level: "silent" });
let cpu0 = process.cpuUsage();
let started = false;
/** ownCpuSeconds, marking the user/system baseline on the first call (runPhase calls it first before SIPp starts). */
function cpu(): number {
  if (!started) {
    started = true;
    return mark();
  }
  return ownCpuSeconds();
}

async function run(): Promise<void> {
  if (mode === "options") {
    const server = new Server(optionsApp, { listen: ["udp:127.0.0.1:0"], logger });
    await server.start();
    try {
      report(await runPhase(benchFile("sipp/uac-options.xml"), server.listeners()[0]?.port ?? 0, phase, cpu));
    } finally {
      await server.stop();
    }
    return;
  }
  if (mode === "relay" || mode === "dialog") {
    const uas = await startSipp({ scenario: "uas", transport: "u1", calls: 1_000_000, timeoutSec: 300 });
    await uas.ready;
    const uri = `sip:127.0.0.1:${uas.port}`;
    const server = new Server(mode === "relay" ? relayApp(uri) : dialogRelayApp(uri, "dialog"), {
      listen: ["udp:127.0.0.1:0"],
      logger,
    });
    await server.start();
    try {
      report(await runPhase("uac", server.listeners()[0]?.port ?? 0, phase, cpu));
    } finally {
      await server.stop();
      await uas.stop();
    }
    return;
  }
  const server = new Server(evapiApp, { listen: ["udp:127.0.0.1:0"], logger });
  await server.start();
  const sipPort = server.listeners()[0]?.port ?? 0;
  const peer = await startPeer("answer", [(serverInternals(server).modules.get("evapi") as EvapiModule).address().port]);
  try {
    await waitEvapiReady(sipPort, peer);
    report(await runPhase(benchFile("sipp/uac-invite-local.xml"), sipPort, phase, cpu));
  } finally {
    await peer.stop();
    await server.stop();
  }
}

/** Marks the start of the measured phase (user/system split of the CPU per call). */
function mark(): number {
  cpu0 = process.cpuUsage();
  return ownCpuSeconds();
}

function report(s: {
  successful: number;
  failed: number;
  retransmissions: number;
  perSecond: number;
  cpuUsPerCall?: number;
}): void {
  const d = process.cpuUsage(cpu0);
  const per = (us: number): string => (us / Math.max(1, s.successful)).toFixed(1);
  const head = `${mode}: ${s.successful} ok, ${s.failed} failed, ${s.retransmissions} retrans, ${s.perSecond.toFixed(0)}/s`;
  console.log(`${head}, CPU ${s.cpuUsPerCall?.toFixed(1) ?? "?"} µs/call (user ${per(d.user)}, system ${per(d.system)})`);
}

await run();
