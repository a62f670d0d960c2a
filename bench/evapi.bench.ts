// evapi relay throughput. Micro: target selection over 8 slots plus queueing one shared frame (the
// per-event work before the corked write). Macro: a real Server relaying to 1 and 8 plain TCP
// clients that read everything, events/s over 200 000 events (batches, readers keep up).
import { connect, type Socket } from "node:net";
import { once } from "node:events";
import { pino } from "pino";
import type { BenchCase, MacroRow } from "./types.js";
import { Server, serverInternals } from "../src/server.js";
import { defineApp } from "../src/app.js";
import { NetstringDecoder, SharedFrame } from "evsip-client/netstring";
import { ClientTable } from "../src/modules/evapi/client-table.js";
import { SendQueue } from "../src/common/send-queue.js";
import type { EvapiConnection } from "../src/modules/evapi/connection.js";
import type { EvapiModule } from "../src/modules/evapi/index.js";
import { compilePatterns, eventNameOf } from "../src/modules/evapi/subscriptions/event-patterns.js";

const EVENT = { event: "call-start", ci: "a84b4c76e66710@pc33.atlanta.example.com", fU: "alice", tU: "bob", ts: 1700000000 };
const table = new ClientTable(8);
const queues: SendQueue[] = [];
for (let i = 0; i < 8; i++) {
  const q = new SendQueue();
  queues.push(q);
  table.put({ conidx: i, connected: true, tag: i % 2 ? "billing" : "", queue: q } as unknown as EvapiConnection);
}
const out: EvapiConnection[] = [];
// The same 8 slots, half of them subscribed (two exact names and two prefixes each).
const subscribed = new ClientTable(8);
const filter = compilePatterns(["call-end", "cdr", "dialog:*", "call-s*"]);
if (!filter.ok) throw new Error(filter.detail);
for (let i = 0; i < 8; i++) {
  const c = { conidx: i, connected: true, tag: "", queue: queues[i], events: undefined } as unknown as EvapiConnection;
  subscribed.put(c);
  if (i % 2) subscribed.setFilter(c, filter.filter);
}

export const benches: BenchCase[] = [
  {
    name: "evapi relay path: frame object once + select 8 + queue 8",
    fn: () => {
      const f = new SharedFrame(EVENT).frame;
      for (const c of table.select(out, undefined, undefined)) c.queue.push(f);
      for (const q of queues) q.shift();
    },
  },
  {
    name: "evapi relay path, 4 of 8 subscribed: name from the event field + select 8 + queue",
    fn: () => {
      const f = new SharedFrame(EVENT).frame;
      for (const c of subscribed.select(out, undefined, undefined, eventNameOf(EVENT, undefined))) c.queue.push(f);
      for (const q of queues) q.shift();
    },
  },
  {
    name: "evapi unicast round-robin select (4 tagged of 8)",
    fn: () => {
      table.select(out, "billing", "round-robin");
    },
  },
];

async function relayRun(clients: number, events: number): Promise<number> {
  const server = new Server(defineApp({ modules: { evapi: { bindAddr: "127.0.0.1:0", maxClients: clients } } }), {
    listen: ["udp:127.0.0.1:0"],
    logger: pino({ level: "silent" }),
  });
  await server.start();
  const mod = serverInternals(server).modules.get("evapi") as EvapiModule;
  const port = mod.address().port;
  const counts: number[] = [];
  const sockets: Socket[] = [];
  for (let i = 0; i < clients; i++) {
    counts.push(0);
    const d = new NetstringDecoder({ onFrame: () => counts[i]!++ });
    const s = connect({ port, host: "127.0.0.1" });
    s.on("data", (c: Buffer) => void d.push(c));
    await once(s, "connect");
    sockets.push(s);
  }
  while (mod.service.clients().length < clients) await new Promise<void>((r) => setImmediate(r));
  const ctx = serverInternals(server).engine.newContext("event", undefined, undefined) as unknown as {
    evapi: { relay(d: object): number };
  };
  const batch = 1000;
  const t0 = process.hrtime.bigint();
  for (let sent = 0; sent < events; sent += batch) {
    for (let i = 0; i < batch; i++) ctx.evapi.relay(EVENT);
    while (Math.min(...counts) < sent + batch) await new Promise<void>((r) => setImmediate(r));
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const s of sockets) s.destroy();
  await server.stop();
  return events / secs;
}

export async function macro(): Promise<MacroRow[]> {
  const rows: MacroRow[] = [];
  for (const n of [1, 8]) {
    const rate = await relayRun(n, 200_000);
    rows.push({
      name: `evapi relay to ${n} client${n > 1 ? "s" : ""}`,
      metric: "events/s",
      value: Math.round(rate),
      unit: "ev/s",
      note: `${n} reading TCP clients, ~130 B JSON events`,
    });
  }
  return rows;
}
