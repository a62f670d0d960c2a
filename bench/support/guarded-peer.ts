// Child process of bench/evapi-guard.bench.ts: one evsip/client consumer counting events, over
// plain TCP or TLS, with or without a token (argv: port, tls|plain, token|-, CA file). IPC: sends
// { ready: true } once connected (and authenticated), { progress: n } every 1000 events, answers
// { cmd: "count" } with { count } and exits on { cmd: "exit" }.
import { readFileSync } from "node:fs";
import { EvapiClient } from "../../src/client/index.js";

const [portArg, transport, token, caFile] = process.argv.slice(2);
const client = new EvapiClient({
  host: "127.0.0.1",
  port: Number(portArg),
  token: token === "-" ? undefined : token,
  tls: transport === "tls" ? { ca: readFileSync(caFile ?? ""), servername: "localhost" } : undefined,
  maxMessageSize: 1 << 20,
});
let count = 0;
client.on("message", () => {
  if (++count % 1000 === 0) process.send?.({ progress: count });
});
process.on("message", (m: { cmd: string }) => {
  if (m.cmd === "count") process.send?.({ count });
  if (m.cmd === "exit") void client.close().then(() => process.exit(0));
});
await client.connect();
process.send?.({ ready: true });
