// The smallest external application for examples/async-auth: it allows every call. Each `auth`
// event carries the suspended transaction's tindex/tlabel; answer() copies them into the reply (a
// decision) so the router can continue it. examples/async-auth/auth-service.ts adds a policy.
// Run: `node dist/examples/client/answer-events.js [port]` against evsip or Kamailio's evapi (8448).
import { EvapiClient, decision } from "evsip/client";

const port = Number(process.argv[2] ?? 8448);
const client = new EvapiClient({ host: "127.0.0.1", port, reconnect: { initialDelay: 200, maxDelay: 10000 } });
client.on("connected", (at) => console.log(`connected to ${at.host}:${at.port}`));
client.on("disconnected", ({ reason }) => console.log(`disconnected: ${reason?.code ?? "peer closed"}`));
client.on("error", (e) => console.error(e.code, e.message));
client.answer((event) => {
  const e = event as { event?: string; ci?: string; to?: string };
  if (e.event !== "auth") return undefined; // not a question for us: no reply
  console.log(`allow call to ${e.to} (${e.ci})`);
  return decision.allow(); // { action: "allow" }: Kamailio scripts read it too
});
await client.connect();
