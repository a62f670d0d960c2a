// A stand-in for a busy application server behind the edge (examples/edge/app.ts): it answers every
// call itself (INVITE and BYE 200, OPTIONS 200) and spends CORE_BUSY_MS (default 2) ms of CPU on
// each new INVITE, so that a few hundred calls a second overload it. Its admission control then
// asks the edge, which supports RFC 7339, for a share less new work (admission.ocQueue), and
// refuses with 503 what still comes past its queue bound.
import { defineApp } from "evsip";

const BUSY_MS = Number(process.env.CORE_BUSY_MS ?? 2);

/** Keeps the CPU busy for `ms`, as a route that does real work per call would. */
function work(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

export default defineApp({
  listen: ["udp:127.0.0.1:5070"],
  request(ctx) {
    if (ctx.isMethod("ACK")) return; // ends the INVITE transaction's 2xx re-sends
    if (ctx.isMethod("INVITE")) {
      if (!ctx.hasToTag()) work(BUSY_MS); // a new call; a re-INVITE costs nothing here
      // The callee's Contact: where the caller sends the call's ACK and BYE (through the edge).
      const host = String(ctx.pv("$Ri"));
      ctx.appendToReply(`Contact: <sip:core@${host.includes(":") ? `[${host}]` : host}:${String(ctx.pv("$Rp"))}>`);
      ctx.tm.reply(200, "OK");
      return;
    }
    ctx.sl.sendReply(200, "OK");
  },
});
