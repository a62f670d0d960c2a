// What auth and TLS on the event socket cost the router per event (README.md "Authentication",
// "TLS"): the same events to the same consumers over plain TCP, with a token, over TLS, and over
// TLS with a token. Two loads: a fixed 2,000 events/s to one consumer (router CPU per event), and
// the fan-out ceiling: 8 consumers, the producer keeping at most 4,000 events in flight per
// consumer (events/s each consumer received, router CPU per event and consumer). Router and
// producer run in this process (process.cpuUsage); consumers are child processes, so their CPU
// (TLS decryption included) is not counted. After one warm-up run of each load, runs alternate the
// four modes, best of 2.
// Quiet rerun: `npm run build && node dist/bench/run.js evapi-guard` (GUARD_BENCH_SECONDS,
// GUARD_BENCH_CEILING_EVENTS change the lengths). Certificates: test/fixtures/tls.
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { pino } from "pino";
import { sendAtRate } from "./support/fixed-rate.js";
import type { BenchCase, MacroRow } from "./types.js";
import { Server, serverInternals } from "../src/server.js";
import { defineApp } from "../src/app.js";
import type { EvapiModule } from "../src/modules/evapi/index.js";

const EVENT = { event: "call-start", ci: "a84b4c76e66710@pc33.atlanta.example.com", fU: "alice", tU: "bob", ts: 1700000000 };
const RATE = 2000;
const SECONDS = Number(process.env.GUARD_BENCH_SECONDS ?? 3);
const CEILING_EVENTS = Number(process.env.GUARD_BENCH_CEILING_EVENTS ?? 60_000);
const TOKEN = "bench-token-0123456789abcdef";
const FIX = resolve("test/fixtures/tls");
const MODES = ["plain", "auth", "tls", "tls+auth"] as const;
type Mode = (typeof MODES)[number];

export const benches: BenchCase[] = [];

function waitMessage<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise<T>((done, fail) => {
    const t = setTimeout(() => fail(new Error(`guarded peer: no ${key}`)), 30_000);
    const on = (m: Record<string, unknown>): void => {
      if (!(key in m)) return;
      clearTimeout(t);
      child.off("message", on);
      done(m[key] as T);
    };
    child.on("message", on);
  });
}

async function setup(mode: Mode, consumers: number) {
  const tls = mode.startsWith("tls");
  const auth = mode.endsWith("auth");
  const server = new Server(
    defineApp({
      modules: {
        evapi: {
          bindAddr: "127.0.0.1:0",
          maxClients: consumers,
          tokens: auth ? [{ token: TOKEN }] : [],
          tls: tls ? { certFile: `${FIX}/server-cert.pem`, keyFile: `${FIX}/server-key.pem` } : undefined,
        },
      },
    }),
    { listen: ["udp:127.0.0.1:0"], logger: pino({ level: "silent" }) },
  );
  await server.start();
  const mod = serverInternals(server).modules.get("evapi") as EvapiModule;
  const args = [String(mod.address().port), tls ? "tls" : "plain", auth ? TOKEN : "-", `${FIX}/ca-cert.pem`];
  const children = Array.from({ length: consumers }, () =>
    fork(new URL("./support/guarded-peer.js", import.meta.url), args, { stdio: ["ignore", "inherit", "inherit", "ipc"] }),
  );
  await Promise.all(children.map((c) => waitMessage(c, "ready")));
  // A TLS client is connected on its side before the router has admitted it: wait for the router's side.
  while (mod.service.clients().length < consumers) await new Promise<void>((r) => setImmediate(r));
  const ctx = serverInternals(server).engine.newContext("event", undefined, undefined) as unknown as {
    evapi: { relay(d: object): number };
  };
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map((c) => {
        const exited = once(c, "exit");
        c.send({ cmd: "exit" });
        return exited;
      }),
    );
    await server.stop();
  };
  return { ctx, children, stop };
}

/** Fixed rate to one consumer: router CPU µs per event. */
async function fixedRate(mode: Mode): Promise<number> {
  const { ctx, children, stop } = await setup(mode, 1);
  const total = RATE * SECONDS;
  const cpu0 = process.cpuUsage();
  await sendAtRate(() => ctx.evapi.relay(EVENT), RATE, total);
  const child = children[0] as ChildProcess;
  while ((await countOf(child)) < total) await new Promise((r) => setTimeout(r, 20));
  const cpu = process.cpuUsage(cpu0);
  await stop();
  return (cpu.user + cpu.system) / total;
}

function countOf(child: ChildProcess): Promise<number> {
  const p = waitMessage<number>(child, "count");
  child.send({ cmd: "count" });
  return p;
}

/** Fan-out to 8 consumers as fast as they take it: events/s per consumer and CPU µs per event × consumer. */
async function ceiling(mode: Mode): Promise<{ rate: number; cpu: number }> {
  const n = 8;
  const { ctx, children, stop } = await setup(mode, n);
  const progress = children.map(() => 0);
  // The producer sleeps on the consumers' progress reports, so waiting costs no CPU.
  let wake: (() => void) | undefined;
  children.forEach((c, i) =>
    c.on("message", (m: { progress?: number }) => {
      if (!m.progress) return;
      progress[i] = m.progress;
      wake?.();
    }),
  );
  const progressed = (): Promise<void> => new Promise<void>((r) => (wake = r));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let sent = 0;
  while (sent < CEILING_EVENTS) {
    if (sent - Math.min(...progress) < 4000) {
      for (let i = 0; i < 500; i++) ctx.evapi.relay(EVENT);
      sent += 500;
      await new Promise((r) => setImmediate(r)); // let the corked writes go out
    } else await progressed();
  }
  while (Math.min(...progress) < CEILING_EVENTS) await progressed();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  await stop();
  return { rate: CEILING_EVENTS / secs, cpu: (cpu.user + cpu.system) / (CEILING_EVENTS * n) };
}

export async function macro(): Promise<MacroRow[]> {
  const fixed: Record<Mode, number[]> = { plain: [], auth: [], tls: [], "tls+auth": [] };
  const ceil: Record<Mode, Array<{ rate: number; cpu: number }>> = { plain: [], auth: [], tls: [], "tls+auth": [] };
  await fixedRate("plain"); // warm-up (JIT), not counted
  await ceiling("plain");
  for (let round = 0; round < 2; round++) {
    for (const m of MODES) fixed[m].push(await fixedRate(m));
    for (const m of MODES) ceil[m].push(await ceiling(m));
  }
  const rows: MacroRow[] = [];
  const note1 = `${RATE} ev/s × ${SECONDS} s, 1 consumer process, best of 2 alternating runs`;
  const note2 = `8 consumer processes, ${CEILING_EVENTS} events each, ≤ 4000 in flight, best of 2`;
  const plainFixed = Math.min(...fixed.plain);
  const plainCeil = Math.max(...ceil.plain.map((r) => r.rate));
  const plainCeilCpu = Math.min(...ceil.plain.map((r) => r.cpu));
  for (const m of MODES) {
    const f = Math.min(...fixed[m]);
    rows.push({ name: `evapi ${m} at ${RATE} ev/s`, metric: "router CPU per event", value: f, unit: "µs", note: note1 });
    if (m !== "plain") {
      rows.push({
        name: `evapi ${m} vs plain at ${RATE} ev/s`,
        metric: "CPU per event",
        value: ((f - plainFixed) / plainFixed) * 100,
        unit: "% more",
      });
    }
  }
  for (const m of MODES) {
    const rate = Math.max(...ceil[m].map((r) => r.rate));
    const cpu = Math.min(...ceil[m].map((r) => r.cpu));
    rows.push({ name: `evapi ${m} fan-out ceiling → 8`, metric: "events/s per consumer", value: rate, unit: "1/s", note: note2 });
    rows.push({
      name: `evapi ${m} fan-out ceiling → 8`,
      metric: "router CPU per event × consumer",
      value: cpu,
      unit: "µs",
      note: note2,
    });
    if (m !== "plain") {
      rows.push({
        name: `evapi ${m} vs plain, fan-out ceiling`,
        metric: "events/s; CPU per delivery",
        value: ((rate - plainCeil) / plainCeil) * 100,
        unit: "% rate",
        note: `CPU per delivery ${(((cpu - plainCeilCpu) / plainCeilCpu) * 100).toFixed(1)} % more`,
      });
    }
  }
  return rows;
}
