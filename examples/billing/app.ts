// The router side of seed 000's billing use case: record-route every call and tell the billing
// application when it starts and ends — `call-start` on the 200 for the INVITE (onreply_route) and
// `call-end` on the BYE, each with Call-ID, From, To and a timestamp (seconds), via ctx.evapi.relay.
// A client's {"subscribe": tag} tags its connection and is acknowledged to that tag.
// BILLING_UPSTREAM (e.g. "sip:127.0.0.1:5080") is where new calls go (else the Request-URI);
// EVAPI_BIND_ADDR overrides the event socket address.
import { defineApp } from "evsip";

const UPSTREAM = process.env.BILLING_UPSTREAM;

export default defineApp({
  listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"],
  modules: { evapi: { bindAddr: process.env.EVAPI_BIND_ADDR ?? "127.0.0.1:8448" } },
  request(ctx) {
    if (ctx.hasToTag()) {
      if (!ctx.rr.looseRoute()) {
        if (!ctx.isMethod("ACK")) ctx.sl.sendReply(404, "Not here");
        return ctx.exit();
      }
      if (ctx.isMethod("BYE")) {
        // evapi_relay("{\"event\":\"call-end\",\"ci\":\"$ci\",…,\"ts\":$TV(Sn)}")
        ctx.evapi.relay({ event: "call-end", ci: ctx.pv("$ci"), from: ctx.pv("$fu"), to: ctx.pv("$tu"), ts: Date.now() / 1000 });
      }
      ctx.tm.relay();
      return ctx.exit();
    }
    if (ctx.isMethod("ACK")) return ctx.exit();
    if (ctx.isMethod("INVITE")) ctx.rr.recordRoute();
    if (UPSTREAM) ctx.setPv("$du", UPSTREAM);
    ctx.tm.relay();
  },
  reply(ctx) {
    if (ctx.isMethod("INVITE") && ctx.pv("$rs") === 200) {
      ctx.evapi.relay({ event: "call-start", ci: ctx.pv("$ci"), from: ctx.pv("$fu"), to: ctx.pv("$tu"), ts: Date.now() / 1000 });
    }
  },
  events: {
    "evapi:message-received"(ctx) {
      let m: { subscribe?: unknown };
      try {
        m = JSON.parse(ctx.evapi.msg) as { subscribe?: unknown };
      } catch {
        return ctx.xlog("L_WARN", "evapi message is not JSON: $evapi(msg)");
      }
      if (typeof m.subscribe === "string" && ctx.evapi.setTag(m.subscribe)) {
        ctx.evapi.unicast({ event: "subscribed", tag: m.subscribe }, m.subscribe);
      }
    },
  },
});
