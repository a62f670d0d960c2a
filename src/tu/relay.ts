// t_relay: stateful forwarding of ctx's request. The bytes are the stateless forwarder's own
// (Forwarder.requestBytes) with tm's branch in our Via; a name target is resolved first, and the
// lookup counts as a pending branch meanwhile, so a continue or failure route that relays to a
// name is not answered before DNS is.
import type { ServerTransaction } from "../tm/index.js";
import type { RouteContext } from "../core/context.js";
import type { Engine } from "../core/engine.js";
import { atAddress, type Target } from "../core/target.js";
import { rrStateOf } from "../core/rr.js";
import type { StatefulTransactionUser } from "./transaction-user.js";
import { keepFlags, keepHeaderEdits, txScript } from "./script-state.js";

/**
 * What the route did before a relay or a suspension goes with the transaction, as Kamailio saves
 * the request's lumps and flags: a record_route() still applies when a later route relays, the flags
 * and header edits are the failure and continue routes', and the append_to_reply lines go on tm's
 * 100 Trying (Kamailio's 100 is a local reply like any other).
 */
export function keepRouteState(ctx: RouteContext, st: ServerTransaction): void {
  txScript(st).rr = rrStateOf(ctx) ?? txScript(st).rr;
  keepFlags(ctx, st);
  keepHeaderEdits(ctx, st);
  // The 100 carries what the route had added when it was scheduled (the first relay or suspend),
  // however late it leaves: Kamailio sends it then, with what had been added by then.
  if (ctx.replyHeaders && !st.tryingPending) st.keptReplyLines = [...ctx.replyHeaders];
}

function relayTo(
  engine: Engine,
  tu: StatefulTransactionUser,
  ctx: RouteContext,
  st: ServerTransaction,
  t: Target,
  addr: string,
): boolean {
  keepRouteState(ctx, st);
  const dest = { proto: t.proto, addr, port: t.port };
  const r = tu.tm.relay(st, dest, (branch) => {
    const buf = engine.forwarder.requestBytes(ctx, t, branch, tu.tm.viaParamsFor(dest));
    if (!buf) throw new Error(`no ${t.proto} listener for our Via`);
    return buf;
  });
  if (!r.ok) {
    engine.logger.warn({ code: r.code }, r.detail);
    return false;
  }
  return true;
}

export function relay(engine: Engine, tu: StatefulTransactionUser, ctx: RouteContext, target: string | undefined): boolean {
  const msg = ctx.msg;
  if (msg.method === "ACK") return engine.forwarder.forwardRequest(ctx, target);
  const t = engine.forwarder.targetOf(ctx, target, "t_relay");
  if (!t) return false;
  const st = tu.ensure(ctx);
  if (!st) return false;
  if (msg.maxForwards === 0) {
    tu.tm.reply(st, 483, "Too Many Hops");
    return false;
  }
  ctx.replied = true;
  st.pendingLookups++; // until t's address is known: at once for an IP literal
  return atAddress(
    t,
    (addr, later) => {
      st.pendingLookups--;
      const ok = relayTo(engine, tu, ctx, st, t, addr);
      if (!ok && later) tu.tm.ensureReplied(st, 500, "Server Error");
      return ok;
    },
    () => {
      st.pendingLookups--;
      tu.tm.ensureReplied(st, 404, "Not Found");
    },
  );
}
