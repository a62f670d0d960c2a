// The call limiter of Kamailio's first event_route announcement (seed 003), almost line for line:
// event_route[htable:mod-init] fills the table once at start; the request route counts new INVITEs
// per destination domain ($rd) under a lock and answers "500 To many calls to .10" past the limit.
// CALL_LIMIT_UPSTREAM (e.g. "sip:127.0.0.1:5080") is where admitted calls go; else the Request-URI.
import { defineApp } from "evsip";

const UPSTREAM = process.env.CALL_LIMIT_UPSTREAM;

export default defineApp({
  listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"],
  modules: {
    // modparam("htable", "htable", "a=>size=4;")
    htable: { htable: "a=>size=4;" },
  },
  events: {
    "htable:mod-init"(ctx) {
      ctx.setPv("$sht(a=>calls-to::10.10.10.10)", 0);
      ctx.setPv("$sht(a=>max-calls-to::10.10.10.10)", 100);
    },
  },
  async request(ctx) {
    if (ctx.isMethod("INVITE") && !ctx.hasToTag()) {
      switch (ctx.pv("$rd")) {
        case "10.10.10.10":
          await ctx.lock("calls-to::10.10.10.10");
          ctx.setPv("$sht(a=>calls-to::10.10.10.10)", Number(ctx.pv("$sht(a=>calls-to::10.10.10.10)")) + 1);
          ctx.unlock("calls-to::10.10.10.10");
          if (Number(ctx.pv("$sht(a=>calls-to::10.10.10.10)")) > Number(ctx.pv("$sht(a=>max-calls-to::10.10.10.10)"))) {
            ctx.sl.sendReply(500, "To many calls to .10");
            return ctx.exit();
          }
          break;
        // ... other destinations
      }
    }
    if (ctx.isMethod("ACK")) return ctx.exit(); // no Record-Route: in-dialog requests go end to end
    if (UPSTREAM) ctx.setPv("$du", UPSTREAM);
    ctx.tm.relay();
  },
});
