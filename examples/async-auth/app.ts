// Seed 001's flow: every new INVITE is suspended and sent to the auth service over evapi with its
// transaction index/label; the service's answer resumes it in route ALLOW (relay) or REJECT (403).
// With no auth service connected the call is refused at once (503) instead of waiting for a 408.
import { defineApp } from "evsip";

export default defineApp({
  listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"],
  tm: { frTimer: 5000 },
  modules: { evapi: { bindAddr: "127.0.0.1:8448", workers: 2 } },
  request(ctx) {
    if (ctx.isMethod("ACK")) {
      ctx.tm.relay();
      return ctx.exit();
    }
    if (ctx.isMethod("CANCEL")) {
      ctx.tm.relay();
      return ctx.exit();
    }
    if (ctx.isMethod("INVITE") && !ctx.hasToTag()) {
      const sent = ctx.evapi.asyncRelay((t) => ({
        event: "invite",
        tindex: t.index,
        tlabel: t.label,
        ci: ctx.pv("$ci"),
        from: ctx.pv("$fu"),
        to: ctx.pv("$tu"),
      }));
      if (sent === 0) ctx.tm.reply(503, "Auth Service Unavailable");
      return ctx.exit();
    }
    ctx.tm.relay();
  },
  routes: {
    ALLOW(ctx) {
      ctx.tm.relay();
    },
    REJECT(ctx) {
      ctx.tm.reply(403, "Forbidden");
    },
  },
  events: {
    "evapi:connection-new"(ctx) {
      ctx.xlog("auth service connected from $evapi(srcaddr):$evapi(srcport)");
    },
    "evapi:message-received"(ctx) {
      const m = JSON.parse(ctx.evapi.msg) as { tindex: number; tlabel: number; action?: string };
      if (!ctx.tm.continue(m.tindex, m.tlabel, m.action === "allow" ? "ALLOW" : "REJECT")) {
        ctx.xlog("L_WARN", "late answer for a finished transaction");
      }
    },
  },
});
