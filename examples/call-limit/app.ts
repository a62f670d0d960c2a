// The call limiter of Kamailio's first event_route announcement (seed 003, docs/origins.md), on dialog profiles:
// event_route[htable:mod-init] sets the limit once at start; the request route counts the live
// calls per destination domain ($rd) in the dialog profile "calls-to" and answers "500 To many
// calls to .10" past the limit. A call leaves the profile when it ends (BYE from either side), times
// out (a lost BYE) or fails, so the count is of calls in progress and never leaks.
// CALL_LIMIT_UPSTREAM (e.g. "sip:127.0.0.1:5080") is where admitted calls go; else the Request-URI.
import { defineApp } from "evsip";

const UPSTREAM = process.env.CALL_LIMIT_UPSTREAM;

export default defineApp({
  listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"],
  modules: {
    // modparam("htable", "htable", "a=>size=4;")
    htable: { htable: "a=>size=4;" },
    // modparam("dialog", "profiles_with_value", "calls-to"); a call without BYE ends after 2 h
    dialog: { profilesWithValue: "calls-to", defaultTimeout: 7200 },
  },
  events: {
    "htable:mod-init"(ctx) {
      ctx.setPv("$sht(a=>max-calls-to::10.10.10.10)", 100);
    },
  },
  request(ctx) {
    if (ctx.hasToTag()) {
      // Within a dialog (ACK, BYE, re-INVITE): follow the Route set; the dialog module sees the BYE.
      if (ctx.rr.looseRoute()) ctx.tm.relay();
      return;
    }
    if (ctx.isMethod("INVITE")) {
      switch (ctx.pv("$rd")) {
        case "10.10.10.10":
          // get_profile_size and set_dlg_profile run in one synchronous step: no lock needed.
          if (ctx.dialog.profileSize("calls-to", "10.10.10.10") >= Number(ctx.pv("$sht(a=>max-calls-to::10.10.10.10)"))) {
            ctx.appendToReply("Retry-After: 60"); // append_to_reply: on this 500 only, never on a relayed INVITE
            ctx.sl.sendReply(500, "To many calls to .10");
            return;
          }
          ctx.dialog.manage();
          ctx.dialog.setProfile("calls-to", "10.10.10.10");
          break;
        // ... other destinations
      }
    }
    ctx.rr.recordRoute(); // keeps the BYE on this router, where it ends the dialog
    if (UPSTREAM) ctx.setPv("$du", UPSTREAM);
    ctx.tm.relay();
  },
});
