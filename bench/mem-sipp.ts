// Memory harness, not a bench case: runs the SIPp relay (INVITE…BYE through tm.relay) against an
// in-process Server, then measures what the live transactions hold: memory after the calls minus
// memory once tm.stop() has forgotten every transaction (both after forced GCs). Needs --expose-gc:
//   node --expose-gc dist/bench/mem-sipp.js [calls]
import { writeHeapSnapshot } from "node:v8";
import { pino } from "pino";
import { Server } from "../src/server.js";
import { startSipp } from "../test/support/sipp.js";
import { ownCpuSeconds, runPhase, type Phase } from "./support/sipp-macro.js";
import { relayApp } from "./sipp-relay.bench.js";

const calls = Number(process.argv[2] ?? 5000);
const snapshot = process.argv[3] === "snapshot";
const phase: Phase = { label: "relay", rate: 100_000, calls, limit: 50, timeoutSec: 120 };
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");

function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) gc?.();
  return process.memoryUsage();
}

const uas = await startSipp({ scenario: "uas", transport: "u1", calls: 1_000_000, timeoutSec: 300 });
await uas.ready;
const server = new Server(relayApp(`sip:127.0.0.1:${uas.port}`), {
  listen: ["udp:127.0.0.1:0"],
  logger: pino({ level: "silent" }),
});
await server.start();
try {
  const s = await runPhase("uac", server.listeners()[0]?.port ?? 0, phase, ownCpuSeconds);
  const tu = server.engine.tu;
  const live = { server: tu.stats.serverTransactions, client: tu.stats.clientTransactions };
  const held = settle();
  if (snapshot) console.log(`snapshot ${writeHeapSnapshot()}`);
  tu.stop();
  const freed = settle();
  const per = (a: number, b: number): string => ((a - b) / Math.max(1, s.successful)).toFixed(0);
  console.log(
    `relay: ${s.successful} ok, ${s.failed} failed; live st ${live.server} ct ${live.client}; held per call: ` +
      `heap ${per(held.heapUsed, freed.heapUsed)} B, buffers ${per(held.arrayBuffers, freed.arrayBuffers)} B, ` +
      `external ${per(held.external, freed.external)} B`,
  );
} finally {
  await server.stop();
  await uas.stop();
}
