// Seed 001's flow: every new INVITE is suspended and sent to the auth service over evapi with its
// transaction index/label; the service's answer is a decision message (allow, reject with a code,
// drop, redirect) that ctx.evapi.decide() applies in one call: allow runs route ALLOW (relay).
// With no auth service connected the call is refused at once (503) instead of waiting for a 408.
// A client's {"subscribe": tag} tags its connection and is acknowledged to that tag.
// AUTH_UPSTREAM (e.g. "sip:127.0.0.1:5080") is where allowed calls go (else the Request-URI);
// EVAPI_BIND_ADDR overrides the event socket address. EVAPI_TOKEN (16+ characters) makes clients
// authenticate with it; EVAPI_TLS_CERT and EVAPI_TLS_KEY (PEM files) put the event socket under TLS.
import { defineApp } from "evsip";

const UPSTREAM = process.env.AUTH_UPSTREAM;
const TOKEN = process.env.EVAPI_TOKEN;
const CERT = process.env.EVAPI_TLS_CERT;
const KEY = process.env.EVAPI_TLS_KEY;

export default defineApp({
  listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"],
  tm: { frTimer: 5000 },
  modules: {
    evapi: {
      bindAddr: process.env.EVAPI_BIND_ADDR ?? "127.0.0.1:8448",
      workers: 2,
      // The service's token may carry only the tag "auth", which it then gets at auth.
      tokens: TOKEN ? [{ token: TOKEN, name: "auth-service", tags: ["auth"] }] : [],
      tls: CERT && KEY ? { certFile: CERT, keyFile: KEY } : undefined,
    },
  },
  request(ctx) {
    if (ctx.hasToTag()) {
      // In-dialog (ACK of the 200, BYE): follow the Record-Route set back to the callee.
      if (ctx.rr.looseRoute()) ctx.tm.relay();
      else if (!ctx.isMethod("ACK")) ctx.sl.sendReply(404, "Not here");
      return;
    }
    if (ctx.isMethod("CANCEL")) {
      ctx.tm.relay();
      return;
    }
    if (ctx.isMethod("ACK")) return; // the ACK of a negative reply ends here
    if (!ctx.isMethod("INVITE")) {
      ctx.sl.sendReply(405, "Method Not Allowed");
      return;
    }
    ctx.rr.recordRoute();
    const sent = ctx.evapi.asyncRelay((t) => ({
      event: "auth",
      tindex: t.index,
      tlabel: t.label,
      ci: ctx.pv("$ci"),
      from: ctx.pv("$fu"),
      to: ctx.pv("$tu"),
    }));
    if (sent === 0) ctx.tm.reply(503, "Auth Service Unavailable");
    return;
  },
  routes: {
    ALLOW(ctx) {
      if (UPSTREAM) ctx.setPv("$du", UPSTREAM);
      ctx.tm.relay();
    },
  },
  events: {
    "evapi:connection-new"(ctx) {
      // Any event client: the auth service, or a tap watching the events.
      ctx.xlog("evapi client connected from $evapi(srcaddr):$evapi(srcport)");
    },
    "evapi:message-received"(ctx) {
      const m = JSON.parse(ctx.evapi.msg) as { subscribe?: string };
      if (typeof m.subscribe === "string") {
        // evapi_set_tag + evapi_unicast: the client now receives what is sent to its tag.
        if (ctx.evapi.setTag(m.subscribe)) ctx.evapi.unicast({ event: "subscribed", tag: m.subscribe }, m.subscribe);
        return;
      }
      // The decision (README "Decisions"): a late or bad one is answered to the service with its code.
      const r = ctx.evapi.decide({ allow: "ALLOW" });
      if (!r.ok) ctx.xlog("L_WARN", `decision refused: ${r.code}`);
    },
  },
});
