// Child process of bench/evapi-durable.bench.ts: one evsip/client consumer, plain ("plain") or
// durable with automatic acks ("durable"), counting the events it receives. IPC: sends
// { ready: true } once connected (durable: subscribed), answers { cmd: "count" } with { count }.
import { EvapiClient } from "../../src/client/index.js";

const [portArg, mode] = process.argv.slice(2);
const durable = mode === "durable";
const client = new EvapiClient({
  port: Number(portArg),
  ...(durable ? { durable: { consumer: "bench", ack: (process.env.DURABLE_BENCH_ACK ?? "auto") as "auto" | "manual" } } : {}),
});
let count = 0;
if (durable) client.consume(() => void count++);
else client.on("event", () => void count++);
process.on("message", (m: { cmd: string }) => {
  if (m.cmd === "count") process.send?.({ count });
  if (m.cmd === "exit") void client.close().then(() => process.exit(0));
});
if (durable) client.once("subscribed", () => process.send?.({ ready: true }));
await client.connect();
if (!durable) process.send?.({ ready: true });
