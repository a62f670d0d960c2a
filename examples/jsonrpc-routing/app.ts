// Routing decisions from a JSON-RPC service (seed 004, Kamailio's jsonrpc_request): a new INVITE
// suspends its transaction, asks the service for a gateway, and continues in RELAY (the result, a
// SIP URI, becomes $du) or FAIL ("timeout", "failure" or the JSON-RPC error). The service is
// examples/jsonrpc-routing/service.ts; JSONRPC_SERVERS overrides where it is.
import { defineApp } from "evsip";

export default defineApp({
  listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"],
  modules: {
    // modparam("jsonrpcc", "servers", "localhost:9999,2 ...")
    jsonrpcc: { servers: process.env.JSONRPC_SERVERS ?? "127.0.0.1:9999,1", timeout: 500 },
  },
  request(ctx) {
    if (ctx.hasToTag()) {
      // In-dialog (a UA that sends everything here): follow the Request-URI, the callee's Contact.
      if (ctx.isMethod("ACK")) ctx.forward();
      else ctx.tm.relay();
      return;
    }
    if (ctx.isMethod("INVITE") && !ctx.hasToTag()) {
      // jsonrpc_request("route", "{'user': '$rU'}", "RELAY", "FAIL", "$var(gw)");
      ctx.jsonrpc.request("route", { user: ctx.pv("$rU") }, "RELAY", "FAIL", "$var(gw)");
    }
    ctx.tm.relay();
  },
  routes: {
    RELAY(ctx) {
      ctx.xlog("L_INFO", "route for $rU: $var(gw)");
      ctx.setPv("$du", ctx.pv("$var(gw)"));
      ctx.tm.relay();
    },
    FAIL(ctx) {
      ctx.xlog("L_WARN", "no route for $rU: $var(gw)");
      const why = String(ctx.pv("$var(gw)"));
      if (why === "timeout" || why === "failure") ctx.tm.reply(503, "Routing Service Unavailable");
      else ctx.tm.reply(404, "No Route");
    },
  },
});
