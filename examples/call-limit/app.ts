// The call limiter of Kamailio's first event_route announcement (seed 003, docs/origins.md), on dialog profiles:
// event_route[htable:mod-init] sets the limit once at start; the request route counts the live
// calls per destination domain ($rd) in the dialog profile "calls-to" and answers "500 To many
// calls to .10" past the limit. A call leaves the profile when it ends (BYE from either side), times
// out (a lost BYE) or fails, so the count is of calls in progress and never leaks.
// Limits for other domains arrive over evapi from a provisioning application
// (examples/client/limit-feed.ts): `{"limit":"<domain>","max":<n>}` sets $sht(a=>max-calls-to::<domain>),
// as event_route[evapi:message-received] with json_get_field would in Kamailio; a domain without a
// limit is not counted.
// CALL_LIMIT_UPSTREAM (e.g. "sip:127.0.0.1:5080") is where admitted calls go; else the Request-URI.
// EVAPI_BIND_ADDR is where the feed connects (default 127.0.0.1:8448).
import { defineApp } from "evsip";

const UPSTREAM = process.env.CALL_LIMIT_UPSTREAM;

export default defineApp({
  listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"],
  modules: {
    // modparam("htable", "htable", "a=>size=4;")
    htable: { htable: "a=>size=4;" },
    // modparam("evapi", "bind_addr", "127.0.0.1:8448"): the limit feed's socket
    evapi: { bindAddr: process.env.EVAPI_BIND_ADDR ?? "127.0.0.1:8448" },
    // modparam("dialog", "profiles_with_value", "calls-to"); a call without BYE ends after 2 h
    dialog: { profilesWithValue: "calls-to", defaultTimeout: 7200 },
  },
  events: {
    "htable:mod-init"(ctx) {
      ctx.setPv("$sht(a=>max-calls-to::10.10.10.10)", 100);
    },
    "evapi:message-received"(ctx) {
      const m = limitOf(ctx.evapi.msg);
      if (m === undefined) ctx.xlog("L_WARN", "limit feed: not a limit, ignored");
      else ctx.htable.set("a", `max-calls-to::${m.limit}`, m.max);
    },
  },
  request(ctx) {
    if (ctx.hasToTag()) {
      // Within a dialog (ACK, BYE, re-INVITE): follow the Route set; the dialog module sees the BYE.
      if (ctx.rr.looseRoute()) ctx.tm.relay();
      return;
    }
    if (ctx.isMethod("INVITE")) {
      // The original checked 10.10.10.10 alone; any domain with a limit in the table counts here.
      const rd = String(ctx.pv("$rd"));
      const max = ctx.htable.get("a", `max-calls-to::${rd}`);
      if (max !== null) {
        // get_profile_size and set_dlg_profile run in one synchronous step: no lock needed.
        if (ctx.dialog.profileSize("calls-to", rd) >= Number(max)) {
          ctx.appendToReply("Retry-After: 60"); // append_to_reply: on this 500 only, never on a relayed INVITE
          ctx.sl.sendReply(500, rd === "10.10.10.10" ? "To many calls to .10" : `Too many calls to ${rd}`);
          return;
        }
        ctx.dialog.manage();
        ctx.dialog.setProfile("calls-to", rd);
      }
    }
    ctx.rr.recordRoute(); // keeps the BYE on this router, where it ends the dialog
    if (UPSTREAM) ctx.setPv("$du", UPSTREAM);
    ctx.tm.relay();
  },
});

/** `{"limit":"<domain>","max":<n>}` from the feed, or undefined for anything else. */
function limitOf(text: string): { limit: string; max: number } | undefined {
  try {
    const m = JSON.parse(text) as { limit?: unknown; max?: unknown };
    if (typeof m.limit !== "string" || m.limit === "" || !Number.isSafeInteger(m.max) || (m.max as number) < 0) return undefined;
    return { limit: m.limit, max: m.max as number };
  } catch {
    return undefined;
  }
}
