// An edge proxy in front of evsip routers (the cores). It record-routes every call, spreads new
// calls over the cores by Call-ID, and with tm.overloadControl (RFC 7339) holds back the share of
// new calls a core in overload asks for: such a call fails at once with a local 503 and, like a
// core's own 503 or a core that does not answer, tries the next core from the failure route
// before the caller hears of it. The overloaded core pays nothing for the calls held back.
// EDGE_CORES: the cores' SIP URIs, comma-separated (default sip:127.0.0.1:5070).
// EDGE_METRICS: where /metrics listens (default 127.0.0.1:9090; evsip_tm_held_back_total there).
import { defineApp, type RequestContext } from "evsip";

const CORES = (process.env.EDGE_CORES ?? "sip:127.0.0.1:5070")
  .split(",")
  .map((c) => c.trim())
  .filter((c) => c !== "");
if (CORES.length === 0) throw new Error("EDGE_CORES names no core");

/** The core a call tries first: a hash of its Call-ID, so that calls spread and a retransmission goes where its first copy went. */
function firstCore(callId: string): number {
  let h = 0;
  for (let i = 0; i < callId.length; i++) h = (h * 31 + callId.charCodeAt(i)) >>> 0;
  return h % CORES.length;
}

/**
 * Relays to the core `tries` places after the call's first, and comes back to NEXT_CORE if that
 * fails later; one that cannot be sent to at all is passed over at once.
 */
function relayTo(ctx: RequestContext, tries: number): void {
  ctx.setPv("$avp(tries)", tries);
  ctx.tm.onFailure("NEXT_CORE");
  if (ctx.tm.relay(CORES[(firstCore(ctx.msg.callId) + tries) % CORES.length])) return;
  if (tries + 1 < CORES.length) relayTo(ctx, tries + 1);
  else ctx.tm.reply(503, "Service Unavailable");
}

export default defineApp({
  listen: ["udp:127.0.0.1:5060"],
  metrics: { bindAddr: process.env.EDGE_METRICS ?? "127.0.0.1:9090" },
  // Safe here: the next hops are evsip cores, which take feedback they did not write out of the
  // responses they relay (docs/tm.md, "A server that asks for less").
  tm: { overloadControl: true },
  request(ctx) {
    if (!ctx.maxfwd.process(10)) {
      ctx.sl.sendReply(483, "Too Many Hops");
      return;
    }
    if (ctx.hasToTag()) {
      // Within a dialog (ACK, BYE, re-INVITE): follow the Route set; never held back. A UA that
      // ignores Record-Route (SIPp's built-in uac does) sends them here without one: they go to the
      // core the call's Call-ID picks first, where the call went unless it failed over.
      if (ctx.rr.looseRoute()) ctx.tm.relay();
      else ctx.tm.relay(CORES[firstCore(ctx.msg.callId)]);
      return;
    }
    if (ctx.isMethod("ACK")) return; // an ACK outside any dialog has nowhere to go
    if (ctx.isMethod("CANCEL")) {
      // tm answers a CANCEL that matches a call itself; this one matched none.
      ctx.sl.sendReply(481, "Call/Transaction Does Not Exist");
      return;
    }
    ctx.rr.recordRoute();
    relayTo(ctx, 0);
  },
  routes: {
    NEXT_CORE(ctx) {
      const code = Number(ctx.pv("$T_reply_code"));
      const tries = Number(ctx.pv("$avp(tries)")) + 1;
      // Only "this core cannot take it now" moves the call on: a 503 (its own, or the edge's for a
      // call held back) or no answer at all. A 486 or a 404 is the callee's answer.
      if (code !== 503 && code !== 408) return;
      if (tries < CORES.length) {
        relayTo(ctx, tries);
        return;
      }
      // Every core refused: the edge's own 503, without a core's Retry-After (RFC 3261 §16.7 step 6:
      // a caller that honours it would stop sending to the edge, which is not down).
      ctx.tm.reply(503, "Service Unavailable");
    },
  },
});
