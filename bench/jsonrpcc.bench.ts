// jsonrpcc: the per-request work (frame a request, classify a response, lenient params) and a macro
// run of round trips per second against a local JSON-RPC server (createJsonRpcServer), one at a
// time and with 1000 in flight. Loopback only, bounded in count.
import { pino } from "pino";
import type { BenchCase, MacroRow } from "./types.js";
import { createJsonRpcServer } from "../src/client/index.js";
import { classifyResponse, encodeRequest, JsonRpcClient, parseLenientJson, parseServers } from "../src/modules/jsonrpcc/index.js";

const params = { ci: "a84b4c76e66710@pc33.atlanta.example.com", user: "+4420123456", src: "192.0.2.10" };
const response = Buffer.from(
  JSON.stringify({ jsonrpc: "2.0", id: 123456, result: { gateway: "sip:10.0.0.1:5060", weight: 10 } }),
);
const single = "{'ci': 'a84b4c76e66710@pc33', 'user': '+4420123456', 'n': 12}";
let sink = 0;

export const benches: BenchCase[] = [
  { name: "jsonrpcc encodeRequest (object params)", fn: () => void (sink += encodeRequest(123456, "route", params).length) },
  { name: "jsonrpcc classifyResponse", fn: () => void (sink += classifyResponse(response).kind.length) },
  { name: "jsonrpcc lenient params (single quotes)", fn: () => void (sink += parseLenientJson(single) === null ? 0 : 1) },
];

async function roundTrips(client: JsonRpcClient, total: number, window: number): Promise<number> {
  let sent = 0;
  const t0 = process.hrtime.bigint();
  async function lane(): Promise<void> {
    while (sent < total) {
      sent++;
      const o = await client.requestAsync("echo", params, 5000);
      if (o.kind !== "result") throw new Error(`bench request failed: ${o.kind}`);
    }
  }
  await Promise.all(Array.from({ length: window }, () => lane()));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return total / secs;
}

/** Round trips per second over loopback TCP to createJsonRpcServer. */
export async function macro(): Promise<MacroRow[]> {
  const server = createJsonRpcServer({ methods: { echo: async (p) => p } });
  const { port } = await server.listen();
  const parsed = parseServers(`127.0.0.1:${port},1`);
  if (!parsed.ok) throw new Error(parsed.detail);
  const client = new JsonRpcClient({
    servers: parsed.servers,
    timeout: 5000,
    maxPending: 10_000,
    maxMessageSize: 1 << 20,
    maxConnAttempts: -1,
    reconnectBase: 100,
    reconnectMax: 1000,
    connectTimeout: 2000,
    maxWriteBuffer: 64 << 20,
    stallTimeout: 5000,
    logger: pino({ level: "silent" }),
  });
  client.start();
  while (client.links[0]?.state !== "connected") await new Promise((r) => client.events.once("up", r));
  try {
    await roundTrips(client, 2000, 1); // warm-up
    const serial = await roundTrips(client, 5000, 1);
    const windowed = await roundTrips(client, 50_000, 1000);
    return [
      {
        name: "jsonrpcc round trip, 1 in flight",
        metric: "throughput",
        value: Math.round(serial),
        unit: "req/s",
        note: "client + server in one process",
      },
      {
        name: "jsonrpcc round trip, 1000 in flight",
        metric: "throughput",
        value: Math.round(windowed),
        unit: "req/s",
        note: "client + server in one process",
      },
    ];
  } finally {
    await client.stop();
    await server.close();
    if (sink < 0) console.log(sink);
  }
}
