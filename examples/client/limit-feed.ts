// A provisioning feed for examples/call-limit: reads `<domain> <max>` lines from stdin and sends
// each to the router as `{"limit":"<domain>","max":<max>}`, as fast as the router reads them and
// no faster. send() returns false once the socket's buffer is full; the loop then awaits
// client.drain() before it reads the next line, so a file of millions of lines never sits in this
// process's memory (nor trips the client's maxBufferedBytes, ERR_CLIENT_SLOW_PEER).
// Run: `node dist/examples/client/limit-feed.js [port] < limits.txt` (evsip's evapi, 8448 by default).
import { createInterface } from "node:readline";
import { ClientError, EvapiClient } from "evsip/client";

const port = Number(process.argv[2] ?? 8448);
// A one-shot feed: no reconnect. A router that goes away mid-feed ends it with the count sent.
const client = new EvapiClient({ host: "127.0.0.1", port, reconnect: false });
client.on("error", (e) => console.error(e.code, e.message));
await client.connect();

let sent = 0;
let bad = 0;
let waits = 0;
try {
  for await (const line of createInterface({ input: process.stdin })) {
    const [limit, max, extra] = line.trim().split(/\s+/);
    const n = Number(max);
    if (limit === undefined || limit === "" || extra !== undefined || !Number.isSafeInteger(n) || n < 0) {
      bad++;
      continue;
    }
    if (!client.send({ limit, max: n })) {
      waits++;
      await client.drain(); // the router has not read what is queued yet: read no more input meanwhile
    }
    sent++;
  }
} catch (err) {
  // The connection went (send() or drain() says so): what was queued but unsent is lost with it.
  if (!(err instanceof ClientError)) throw err;
  console.error(`feed stopped after ${sent} limits: ${err.code} ${err.message}`);
  process.exit(1);
}
console.log(`sent ${sent} limits (${bad} bad lines), waited for the router ${waits} times`);
await client.close(); // ends the connection after the last queued bytes
