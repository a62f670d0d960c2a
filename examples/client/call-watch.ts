// A live view of a router's events that never answers them: a listen-only client (evsip only).
// It selects events by name (`events`), so evsip sends it only those, and it can change that
// selection while connected (subscribeEvents): type a new list of names or `prefix*` patterns on
// stdin. Being listen-only, it does not count as a client that could answer: with only watchers
// connected, an app's async relay fails at once (the app answers 503) instead of waiting for a
// timeout. `evsip tap` is the same idea, built in.
// Run: `node dist/examples/client/call-watch.js [port] [name-or-pattern ...]` (default: auth).
import { createInterface } from "node:readline";
import { EvapiClient } from "evsip/client";

const port = Number(process.argv[2] ?? 8448);
const initial = process.argv.length > 3 ? process.argv.slice(3) : ["auth"];

const client = new EvapiClient({ host: "127.0.0.1", port, listenOnly: true, events: initial, reconnect: {} });
client.on("subscribedEvents", (names) => console.log(`watching ${names.join(" ")}`));
client.on("error", (e) => console.error(e.code, e.message)); // a refused pattern: ERR_CLIENT_REFUSED
client.on("event", (event) => {
  const e = event as { event?: string; ci?: string; from?: string; to?: string };
  console.log(`${new Date().toISOString()} ${e.event ?? "?"} ${e.ci ?? ""} ${e.from ?? ""} -> ${e.to ?? ""}`);
});
createInterface({ input: process.stdin }).on("line", (line) => {
  const names = line.split(/\s+/).filter((n) => n !== "");
  if (names.length > 0) client.subscribeEvents(names);
});
await client.connect();
