// A tiny external application for app.ts: connects to evsip's event socket, allows calls whose
// From user starts with "alice" and rejects the others, echoing tindex/tlabel so evsip can resume.
// Run: node dist/examples/async-auth/auth-service.js [port]
import { EvapiClient } from "evsip/client";

const port = Number(process.argv[2] ?? 8448);
const client = new EvapiClient({ host: "127.0.0.1", port });

client.answer(async (event: unknown) => {
  const ev = (event ?? {}) as Record<string, unknown>;
  const from = typeof ev.from === "string" ? ev.from : "";
  const allow = /^sip:alice/.test(from) || /<sip:alice/.test(from);
  console.log(`${allow ? "allow" : "reject"} ${from} (${String(ev.ci)})`);
  return { action: allow ? "allow" : "reject" };
});

await client.connect();
console.log(`auth service connected to 127.0.0.1:${port}`);
