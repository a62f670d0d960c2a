// Seed 001's kamailio.cfg ported line by line (examples/kamailio-port/README.md has the cfg next
// to it): the INVITE is suspended and sent as "invite_request:<index>:<label>:<base64 JSON>"; the
// external application answers {"tm_trans":{"tm_index":…,"tm_label":…},"code":…,"reason":…};
// the event route reads it with jansson_get into $var and calls t_continue, and the resumed route
// reads the $var the event route set (as in Kamailio, it runs inside that route). Code 200 relays
// the call (to AUTH_UPSTREAM when set), any other code is the answer.
import { defineApp } from "evsip";

const UPSTREAM = process.env.AUTH_UPSTREAM;

export default defineApp({
  listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"],
  tm: { frTimer: 5000 },
  modules: { evapi: { bindAddr: process.env.EVAPI_BIND_ADDR ?? "127.0.0.1:8448" } },
  request(ctx) {
    if (ctx.hasToTag()) {
      if (ctx.rr.looseRoute()) {
        ctx.xlog("L_INFO", `in-dialog $rm ${ctx.rr.isDirection("downstream") ? "from the caller" : "from the callee"}`);
        ctx.tm.relay();
      } else if (!ctx.isMethod("ACK")) ctx.sl.sendReply(404, "Not here");
      return;
    }
    if (ctx.isMethod("CANCEL")) {
      ctx.tm.relay();
      return;
    }
    if (!ctx.isMethod("INVITE")) {
      if (!ctx.isMethod("ACK")) ctx.sl.sendReply(405, "Method Not Allowed");
      return;
    }
    ctx.rr.recordRoute();
    // $var(data) = "{...}"; evapi_async_relay("invite_request:$T(id_index):$T(id_label):$(var(data){s.encode.base64})");
    ctx.setPv("$var(data)", JSON.stringify({ from: ctx.pv("$fU"), to: ctx.pv("$rU"), ci: ctx.pv("$ci") }));
    const sent = ctx.evapi.asyncRelay(() => ctx.fmt("invite_request:$T(id_index):$T(id_label):$(var(data){s.encode.base64})"));
    if (sent === 0) ctx.sl.sendReply(503, "Service Unavailable");
    return;
  },
  routes: {
    RESUME(ctx) {
      // Set by the event route just before t_continue.
      const code = Number(ctx.pv("$var(code)"));
      if (code === 200) {
        if (UPSTREAM) ctx.setPv("$du", UPSTREAM);
        ctx.tm.relay();
      } else ctx.tm.reply(code >= 300 && code < 700 ? code : 500, String(ctx.pv("$var(reason)") ?? "Server Error"));
    },
  },
  events: {
    "evapi:message-received"(ctx) {
      const msg = ctx.evapi.msg;
      ctx.jansson.get("tm_trans.tm_index", msg, "$var(t_index)");
      ctx.jansson.get("tm_trans.tm_label", msg, "$var(t_label)");
      if (!ctx.jansson.get("code", msg, "$var(code)")) ctx.setPv("$var(code)", 500);
      if (!ctx.jansson.get("reason", msg, "$var(reason)")) ctx.setPv("$var(reason)", "Server Error");
      if (!ctx.tm.continue(String(ctx.pv("$var(t_index)")), String(ctx.pv("$var(t_label)")), "RESUME")) {
        ctx.xlog("L_WARN", "late answer for transaction $var(t_index):$var(t_label)");
      }
    },
  },
});
