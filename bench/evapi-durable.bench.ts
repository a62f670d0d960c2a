// What durable delivery costs the router: CPU per event at a fixed rate (default 2,000 events/s, one
// billing-sized event per call), fire-and-forget to a plain evsip/client consumer vs durable to a
// consumer that acks every event (consume(), automatic acks coalesced per read), with retention in
// memory and on disk (durableDir on a temp dir: a journal write per event, fdatasync every 100 ms,
// the default durableSyncInterval). Router and producer
// run in this process (their CPU is measured with process.cpuUsage); the consumer is a child
// process, so its CPU is not counted. Runs alternate plain/durable/disk, twice, to spread noise.
// Quiet rerun: `npm run build && node dist/bench/run.js evapi-durable` on an idle machine.
// DURABLE_BENCH_RATE / DURABLE_BENCH_SECONDS change the rate and length; DURABLE_BENCH_ACK=manual
// makes the consumer never ack, which isolates what the acks cost; DURABLE_BENCH_SYNC sets the disk
// run's durableSyncInterval (0 isolates what the fdatasync calls cost).
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { sendAtRate } from "./support/fixed-rate.js";
import type { BenchCase, MacroRow } from "./types.js";
import { Server, serverInternals } from "../src/server.js";
import { defineApp } from "../src/app.js";
import type { EvapiModule } from "../src/modules/evapi/index.js";

const EVENT = { event: "call-start", ci: "a84b4c76e66710@pc33.atlanta.example.com", fU: "alice", tU: "bob", ts: 1700000000 };
const RATE = Number(process.env.DURABLE_BENCH_RATE ?? 2000);
const SECONDS = Number(process.env.DURABLE_BENCH_SECONDS ?? 5);
const SYNC = Number(process.env.DURABLE_BENCH_SYNC ?? 100);

export const benches: BenchCase[] = [];

function ask<T>(child: ChildProcess, key: string, cmd?: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`durable peer: no ${key}`)), 15_000);
    const on = (m: Record<string, unknown>): void => {
      if (!(key in m)) return;
      clearTimeout(t);
      child.off("message", on);
      resolve(m[key] as T);
    };
    child.on("message", on);
    if (cmd) child.send({ cmd });
  });
}

/** One run: CPU µs per event in this process (router + producer) at RATE events/s for SECONDS. */
type Mode = "plain" | "durable" | "disk";

async function run(mode: Mode): Promise<{ cpuPerEvent: number; received: number; sent: number }> {
  const dir = mode === "disk" ? mkdtempSync(join(tmpdir(), "evsip-bench-journal-")) : undefined;
  const server = new Server(
    defineApp({ modules: { evapi: { bindAddr: "127.0.0.1:0", durableDir: dir, durableSyncInterval: SYNC } } }),
    {
      listen: ["udp:127.0.0.1:0"],
      logger: pino({ level: "silent" }),
    },
  );
  await server.start();
  const mod = serverInternals(server).modules.get("evapi") as EvapiModule;
  const child = fork(
    new URL("./support/durable-peer.js", import.meta.url),
    [String(mod.address().port), mode === "plain" ? "plain" : "durable"],
    {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    },
  );
  await ask(child, "ready");
  const ctx = serverInternals(server).engine.newContext("event", undefined, undefined) as unknown as {
    evapi: { relay(d: object): number };
  };
  const total = RATE * SECONDS;
  const cpu0 = process.cpuUsage();
  await sendAtRate(() => ctx.evapi.relay(EVENT), RATE, total);
  let received = 0;
  for (let i = 0; i < 100 && received < total; i++) {
    received = await ask<number>(child, "count", "count");
    if (received < total) await new Promise((r) => setTimeout(r, 20));
  }
  if (mode !== "plain") {
    for (let i = 0; i < 100 && process.env.DURABLE_BENCH_ACK !== "manual" && mod.service.stats.durableAcked < total; i++)
      await new Promise((r) => setTimeout(r, 20));
  }
  const cpu = process.cpuUsage(cpu0);
  const exited = once(child, "exit");
  child.send({ cmd: "exit" });
  await exited;
  await server.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  return { cpuPerEvent: (cpu.user + cpu.system) / total, received, sent: total };
}

export async function macro(): Promise<MacroRow[]> {
  const results: Record<Mode, number[]> = { plain: [], durable: [], disk: [] };
  const lost: string[] = [];
  for (let round = 0; round < 2; round++) {
    for (const mode of ["plain", "durable", "disk"] as const) {
      const r = await run(mode);
      results[mode].push(r.cpuPerEvent);
      if (r.received < r.sent) lost.push(`${mode}: ${r.sent - r.received} not received`);
    }
  }
  const best = (a: number[]): number => Math.min(...a);
  const plain = best(results.plain);
  const durable = best(results.durable);
  const disk = best(results.disk);
  const note = `${RATE} ev/s × ${SECONDS} s, 1 consumer process, best of 2 alternating runs${lost.length ? `; ${lost.join(", ")}` : ""}`;
  return [
    { name: `evapi fire-and-forget at ${RATE} ev/s`, metric: "router CPU per event", value: plain, unit: "µs", note },
    {
      name: `evapi durable (ids, retention, acks) at ${RATE} ev/s`,
      metric: "router CPU per event",
      value: durable,
      unit: "µs",
      note,
    },
    {
      name: `evapi durable on disk (durableDir, fdatasync every ${SYNC} ms) at ${RATE} ev/s`,
      metric: "router CPU per event",
      value: disk,
      unit: "µs",
      note,
    },
    {
      name: "evapi durable on disk vs fire-and-forget",
      metric: "CPU per event",
      value: ((disk - plain) / plain) * 100,
      unit: "% more",
      note: "target ≤ 20 %",
    },
    {
      name: "evapi durable vs fire-and-forget",
      metric: "CPU per event",
      value: ((durable - plain) / plain) * 100,
      unit: "% more",
      note: "target ≤ 20 %",
    },
  ];
}
