// An external application for the async flow of docs/evapi.md: receive each event, decide, answer.
// answer() copies tindex/tlabel from the event into the reply, so the router can tm.continue().
// Run: `npx tsx examples/client/answer-events.ts` against evsip (or Kamailio evapi) on 8448.
import { EvapiClient } from "../../src/client/index.js";

const client = new EvapiClient({ host: "127.0.0.1", port: 8448, reconnect: { initialDelay: 200, maxDelay: 10000 } });
client.on("connected", ({ host, port }) => console.log(`connected to ${host}:${port}`));
client.on("disconnected", ({ reason }) => console.log(`disconnected: ${reason?.code ?? "peer closed"}`));
client.on("error", (e) => console.error(e.code, e.message));
client.answer(async (event) => {
  const e = event as { event?: string; ci?: string };
  if (e.event !== "invite") return undefined; // no reply
  return { action: "allow", ci: e.ci };
});
await client.connect();
