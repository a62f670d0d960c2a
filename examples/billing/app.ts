// The router side of seed 000's billing use case, built so that no call goes unbilled: every
// initial INVITE is a tracked dialog (dlg_manage) and record-routed, and the dialog's event routes
// tell the billing application when a call starts, ends or fails:
// - call-start on dialog:start (the 200), call-end on dialog:end (a BYE from either side, the
//   timeout of a call whose BYE never came, failed keepalives), call-failed on dialog:failed;
// - call-end carries the start time kept with the dialog ($dlg_var), so it alone bills the call.
// Events go to the durable consumer "billing" (kept on disk while it is away, replayed on resume)
// and to any plain client, so a Kamailio-style consumer still works. Dialogs and unacknowledged
// events live under BILLING_STATE_DIR and survive a kill -9 of the router.
//
// Env: BILLING_UPSTREAM ("sip:127.0.0.1:5080": where new calls go; else the Request-URI),
// EVAPI_BIND_ADDR (the event socket, 127.0.0.1:8448), BILLING_STATE_DIR (var/billing),
// BILLING_CALL_TIMEOUT (s, 43200: a call never ended by BYE is billed up to this),
// BILLING_KEEPALIVE (s, 0 = off: in-dialog OPTIONS to both sides, a vanished phone ends its call).
import { join } from "node:path";
import { defineApp } from "evsip";

const UPSTREAM = process.env.BILLING_UPSTREAM;
const STATE = process.env.BILLING_STATE_DIR ?? "var/billing";
const KEEPALIVE = Number(process.env.BILLING_KEEPALIVE ?? 0);

export default defineApp({
  listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"],
  modules: {
    dialog: {
      dialogDir: join(STATE, "dialogs"),
      defaultTimeout: Number(process.env.BILLING_CALL_TIMEOUT ?? 43200),
      sendBye: true,
      kaTimer: KEEPALIVE,
      kaFailedLimit: 2,
    },
    evapi: {
      bindAddr: process.env.EVAPI_BIND_ADDR ?? "127.0.0.1:8448",
      durableConsumers: ["billing"],
      durableDir: join(STATE, "events"),
    },
  },
  request(ctx) {
    if (ctx.hasToTag()) {
      if (!ctx.rr.looseRoute()) {
        if (!ctx.isMethod("ACK")) ctx.sl.sendReply(404, "Not here");
        return;
      }
      ctx.tm.relay();
      return;
    }
    if (ctx.isMethod("ACK")) return;
    if (ctx.isMethod("INVITE")) {
      // A call the router cannot track could not be billed: refused rather than put through.
      if (!ctx.dialog.manage()) {
        ctx.sl.sendReply(503, "Call Not Trackable");
        return;
      }
      if (KEEPALIVE > 0) {
        ctx.dialog.setProperty("ka-src");
        ctx.dialog.setProperty("ka-dst");
      }
      ctx.rr.recordRoute();
    }
    if (UPSTREAM) ctx.setPv("$du", UPSTREAM);
    ctx.tm.relay();
  },
  events: {
    "dialog:start"(ctx) {
      const now = Date.now();
      ctx.setPv("$dlg_var(start_ms)", String(now));
      ctx.evapi.relay({ event: "call-start", ...call(ctx), ts: now / 1000 });
    },
    "dialog:end"(ctx) {
      const start = Number(ctx.pv("$dlg_var(start_ms)")) / 1000;
      ctx.evapi.relay({ event: "call-end", ...call(ctx), ts: Date.now() / 1000, start, reason: ctx.dialog.event?.reason });
    },
    "dialog:failed"(ctx) {
      ctx.evapi.relay({ event: "call-failed", ...call(ctx), ts: Date.now() / 1000, status: ctx.dialog.event?.status ?? null });
    },
    // A plain (Kamailio-style) client's {"subscribe": tag} tags its connection, acknowledged to that tag.
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

/** The call's identity from its dialog: Call-ID, caller's and callee's URIs. */
function call(ctx: { pv(name: string): unknown }): { ci: string; from: string; to: string } {
  return { ci: String(ctx.pv("$dlg(callid)")), from: String(ctx.pv("$dlg(from_uri)")), to: String(ctx.pv("$dlg(to_uri)")) };
}
