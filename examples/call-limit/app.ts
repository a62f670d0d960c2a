// The call limiter of Kamailio's first event_route announcement (seed 003, docs/origins.md), on dialog profiles:
// event_route[htable:mod-init] sets the limit once at start; the request route counts the live
// calls per destination domain ($rd) in the dialog profile "calls-to" and answers "500 To many
// calls to .10" past the limit. A call leaves the profile when it ends (BYE from either side), times
// out (a lost BYE) or fails, so the count is of calls in progress and never leaks.
// Limits for other domains arrive over evapi from a provisioning application
// (examples/client/limit-feed.ts): `{"limit":"<domain>","max":<n>}` sets $sht(a=>max-calls-to::<domain>),
// as event_route[evapi:message-received] with json_get_field would in Kamailio; a domain without a
// limit is not counted. Domains are compared in lower case (SIP hosts are case-insensitive). The
// feed is trusted no further than it must be: at most CALL_LIMIT_MAX_DOMAINS (200,000) domains, a
// domain a host name or IP, and what it sends wrong is counted and logged once per 10 s, not per message.
// CALL_LIMIT_UPSTREAM (e.g. "sip:127.0.0.1:5080") is where admitted calls go; else the Request-URI.
// EVAPI_BIND_ADDR is where the router listens for the feed (default 127.0.0.1:8448).
import { defineApp } from "evsip";

const UPSTREAM = process.env.CALL_LIMIT_UPSTREAM;
/** Domains that may have a limit, the one set at start included: a feed cannot grow the table without end. */
const MAX_DOMAINS = Number(process.env.CALL_LIMIT_MAX_DOMAINS ?? 200_000);
/** A host name or an IPv4/IPv6 literal, lower case. */
const DOMAIN = /^(?:[a-z0-9.-]{1,253}|\[[0-9a-f:.]{2,45}\])$/;
const feed = { domains: 1, refused: 0, lastWarn: 0 };

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
      if (m === undefined) return refuse(ctx, "not a limit");
      const key = `max-calls-to::${m.limit}`;
      if (ctx.htable.get("a", key) === null) {
        if (feed.domains >= MAX_DOMAINS) return refuse(ctx, `more than ${MAX_DOMAINS} domains`);
        feed.domains++;
      }
      ctx.htable.set("a", key, m.max);
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
      const rd = String(ctx.pv("$rd")).toLowerCase();
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

/** `{"limit":"<domain>","max":<n>}` from the feed (the domain lower-cased), or undefined for anything else. */
function limitOf(text: string): { limit: string; max: number } | undefined {
  try {
    const m = JSON.parse(text) as { limit?: unknown; max?: unknown };
    const limit = typeof m.limit === "string" ? m.limit.toLowerCase() : "";
    if (!DOMAIN.test(limit) || !Number.isSafeInteger(m.max) || (m.max as number) < 0) return undefined;
    return { limit, max: m.max as number };
  } catch {
    return undefined;
  }
}

/** Counts a message the feed got wrong; one log line per 10 s says how many, and the last reason. */
function refuse(ctx: { xlog(level: string, text: string): void }, why: string): void {
  feed.refused++;
  const now = Date.now();
  if (now - feed.lastWarn < 10_000) return;
  feed.lastWarn = now;
  ctx.xlog("L_WARN", `limit feed $evapi(srcaddr):$evapi(srcport): ${feed.refused} messages refused so far (last: ${why})`);
}
