// evsip inside your own Node process. startServer() runs the router; the same process connects a
// decision service to the router's event socket with evsip/client; each INVITE awaits the
// service's decision (ctx.evapi.request) and applies it (ctx.evapi.applyDecision), at most two
// calls in progress per caller, counted under a lock held across that await (ctx.withLock). Errors are told
// apart by their stable code, the metrics endpoint's address is read back from the server, and
// SIGTERM drains (server.drain()) before the process exits.
//
// Run from the repository root after `npm run build`:
//   node dist/examples/embedded/main.js [sipPort=5060] [evapiPort=8448]
// test/e2e/embedded-example.test.ts runs it.
import { ConfigError, EvsipError, defineApp, startServer, type Decision, type Server } from "evsip";
import { EvapiClient, decision } from "evsip/client";

const sipPort = Number(process.argv[2] ?? 5060);
const evapiPort = Number(process.argv[3] ?? 8448);

/** At most this many answered calls not yet ended per caller (From user); more get 486. */
const MAX_CALLS_PER_CALLER = 2;
/**
 * The Call-IDs of each caller's answered calls, until the caller's BYE: plain process memory,
 * since the router runs in this process. Call-IDs, not a count: a retransmitted BYE, or a BYE for a
 * call that was never answered, then ends nothing. (A call whose BYE never comes stays here; the
 * dialog module's profiles, as in examples/call-limit, also end calls that time out.)
 */
const inProgress = new Map<string, Set<string>>();

function callEnded(caller: string, callId: string): void {
  const calls = inProgress.get(caller);
  calls?.delete(callId);
  if (calls?.size === 0) inProgress.delete(caller);
}

const app = defineApp({
  listen: [`udp:127.0.0.1:${sipPort}`],
  logLevel: "warn",
  metrics: { bindAddr: "127.0.0.1:0" }, // port 0: the server says which port it got
  admission: { drainTimeout: 2000 },
  modules: { evapi: { bindAddr: `127.0.0.1:${evapiPort}` } },
  async request(ctx) {
    if (ctx.hasToTag()) {
      if (ctx.isMethod("BYE")) callEnded(String(ctx.pv("$fU")), String(ctx.pv("$ci")));
      ctx.sl.sendReply(200, "OK"); // in-dialog (the BYE): the router answered the call, so it ends it too; never sent for an ACK
      return;
    }
    if (!ctx.isMethod("INVITE")) {
      ctx.sl.sendReply(405, "Method Not Allowed");
      return;
    }
    const caller = String(ctx.pv("$fU"));
    // The check and the count are apart by an await: two INVITEs from one caller that arrive
    // together would both pass the check before either is counted. Under the caller's lock the
    // second waits until the first is decided (and counted); other callers do not wait.
    await ctx.withLock(`caller:${caller}`, async () => {
      if ((inProgress.get(caller)?.size ?? 0) >= MAX_CALLS_PER_CALLER) {
        ctx.tm.reply(486, "Busy Here");
        return;
      }
      try {
        const d = await ctx.evapi.request<Decision>({ event: "route", ci: ctx.pv("$ci"), to: ctx.pv("$tU") }, { timeout: 1000 });
        const applied = ctx.evapi.applyDecision(d, { allow: "ANSWER" });
        if (applied.ok && applied.action === "allow") {
          const calls = inProgress.get(caller) ?? new Set<string>();
          inProgress.set(caller, calls.add(String(ctx.pv("$ci"))));
        }
      } catch (err) {
        // No service connected, or none answered in time: a caller can retry elsewhere at once.
        if (err instanceof EvsipError && (err.code === "ERR_EVAPI_NO_CLIENT" || err.code === "ERR_EVAPI_TIMEOUT")) {
          ctx.tm.reply(503, "Decision Service Unavailable");
          return;
        }
        // The caller cancelled while the call waited: tm has answered it 487 already.
        if (err instanceof EvsipError && err.code === "ERR_TM_CANCELLED") return;
        throw err; // anything else is a bug: logged with its route, counted in evsip_core_route_errors_total
      }
    });
  },
  routes: {
    // The allow route: this example has no callee, so an allowed call is answered here.
    ANSWER(ctx) {
      ctx.tm.reply(200, "OK");
    },
  },
});

/** The decision service: numbers starting with 900 are premium-rate and refused. */
async function startDecisionService(): Promise<EvapiClient> {
  const client = new EvapiClient({ host: "127.0.0.1", port: evapiPort, reconnect: { initialDelay: 50, maxDelay: 1000 } });
  client.on("error", (e) => console.error(`decision service: ${e.code} ${e.message}`));
  client.answer((event) => {
    const e = event as { event?: string; to?: string };
    if (e.event !== "route") return undefined; // not a question for this service
    return e.to?.startsWith("900") ? decision.reject(403, "Premium Rate Refused") : decision.allow();
  });
  await client.connect();
  return client;
}

let server: Server;
try {
  server = await startServer(app);
} catch (err) {
  // A bad param or a port in use: the code says which, the message names the param or address.
  if (err instanceof EvsipError) {
    console.error(`cannot start (${err.code}): ${err.message}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  throw err;
}
const service = await startDecisionService();
const metrics = server.metricsAddress();
console.log(`ready: SIP on udp:127.0.0.1:${sipPort}, metrics on http://${metrics?.host}:${metrics?.port}/metrics`);

process.once("SIGTERM", () => {
  // New calls get 503 + Retry-After while the ones in flight finish, then the router stops.
  void server.drain().then(async (report) => {
    await service.close();
    console.log(`drained: ${report.inFlight} in flight, ${report.answered} answered 503`);
  });
});
