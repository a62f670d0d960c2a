// The README's first example, kept compiling by `npm test` (examples are type-checked).
import { defineApp } from "evsip";

export default defineApp({
  listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"],
  tm: { frTimer: 5000 },
  modules: { evapi: { bindAddr: "127.0.0.1:8448" } },
  request(ctx) {
    // request_route
    if (ctx.isMethod("INVITE") && !ctx.hasToTag()) {
      ctx.rr.recordRoute();
      const sent = ctx.evapi.asyncRelay((t) => ({ event: "invite", tindex: t.index, tlabel: t.label, ci: ctx.pv("$ci") }));
      if (sent === 0) ctx.tm.reply(503, "No Auth Service");
      return;
    }
    if (ctx.rr.looseRoute()) ctx.tm.relay();
  },
  routes: {
    // route[NAME]
    ALLOW(ctx) {
      ctx.tm.relay();
    },
  },
  events: {
    // event_route[group:event]
    "evapi:message-received"(ctx) {
      const m = JSON.parse(ctx.evapi.msg);
      if (m.action === "allow") ctx.tm.continue(m.tindex, m.tlabel, "ALLOW");
    },
  },
});
