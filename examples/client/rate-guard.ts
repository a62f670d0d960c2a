// A caller rate guard for examples/async-auth that decides with client.decide() from an event
// listener, where answer-events.ts returns its reply from client.answer(). decide() is for
// answerers that keep their own loop (a queue, a batch, a decision from elsewhere). Like answer(), it
// copies the event's tindex/tlabel into the decision so the router can continue the call.
// A caller (the user part of the From URI: the calling number) with more than LIMIT call attempts
// in the last minute is refused 403; the rest are allowed. Refused attempts count too, so a caller
// that keeps retrying stays refused until it pauses.
// A decision evsip refuses (the call was already answered or timed out) comes back as an `error`
// with ERR_CLIENT_REFUSED and evsip's own code.
// Run: `node dist/examples/client/rate-guard.js [port] [limit]` against evsip, or Kamailio's evapi:
// a decision is plain JSON on the wire; only the notice of a refused decision is evsip's.
import { EvapiClient, decision } from "evsip/client";

const port = Number(process.argv[2] ?? 8448);
const LIMIT = Number(process.argv[3] ?? 5);
if (!Number.isInteger(port) || !Number.isInteger(LIMIT) || LIMIT < 0) {
  console.error("usage: rate-guard.js [port] [limit]: both whole numbers");
  process.exit(2);
}
const WINDOW_MS = 60_000;

/** Each caller's call times within the last WINDOW_MS. */
const recent = new Map<string, number[]>();

/** The calling user of a From URI: `sip:alice@example.com:5060` → `alice` (the host when it has none). */
function callerOf(fromUri: string): string {
  const rest = fromUri.replace(/^(sips?|tel):/, "");
  const at = rest.indexOf("@");
  return at >= 0 ? rest.slice(0, at) : rest;
}

/** Records a call from `caller` now; returns how many it made within the window. */
function count(caller: string, now: number): number {
  const times = (recent.get(caller) ?? []).filter((t) => now - t < WINDOW_MS);
  times.push(now);
  recent.set(caller, times);
  return times.length;
}

// Callers that stopped calling are forgotten, so memory follows the active callers only.
setInterval(() => {
  const now = Date.now();
  for (const [caller, times] of recent) if (now - (times.at(-1) ?? 0) >= WINDOW_MS) recent.delete(caller);
}, WINDOW_MS).unref();

const client = new EvapiClient({ host: "127.0.0.1", port, reconnect: { initialDelay: 200, maxDelay: 10000 } });
client.on("error", (e) => console.error(e.code, e.message));
client.on("event", (event) => {
  const e = event as { event?: string; from?: string };
  if (e.event !== "auth" || e.from === undefined) return;
  const caller = callerOf(e.from);
  const n = count(caller, Date.now());
  if (n > LIMIT) {
    console.log(`refuse ${caller}: call ${n} within a minute`);
    client.decide(event, decision.reject(403, "Too Many Calls"));
  } else {
    console.log(`allow ${caller}: call ${n}`);
    client.decide(event, decision.allow());
  }
});
await client.connect();
