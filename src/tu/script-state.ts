// What the script decided for a server transaction, kept on it so later route runs of the same
// transaction (reply, failure, t_continue) see it: the armed routes, the last failure, and the
// record/loose-route decisions of the request route.
import type { ServerTransaction, TmFailure } from "../tm/index.js";
import type { RrState } from "../core/rr.js";
import { AvpStore } from "../core/avp-store.js";
import type { RouteContext } from "../core/context.js";
import type { FlagState } from "../core/msg-flags.js";

/** Script state kept with a server transaction. */
export interface TxScript {
  onReply: string | undefined;
  onFailure: string | undefined;
  /** The last failure, for $T(reply_code) in the failure route. */
  failure: TmFailure | undefined;
  /** Record-Route / Route decisions of the request route, kept for later branches. */
  rr?: RrState | undefined;
  /** $avp/$xavp of the transaction, shared by every route run of it (Kamailio keeps AVPs with it). */
  avps?: AvpStore | undefined;
  /** Message and branch flags kept with the transaction (Kamailio keeps them in its request). */
  flags?: FlagState | undefined;
}

/**
 * Stores the request route's flags with st, as Kamailio does when it creates the transaction, at
 * t_relay and at t_suspend: a flag set after that is the request route's alone. A route run of
 * the transaction itself (failure, continue) already shares st's set.
 */
export function keepFlags(ctx: RouteContext, st: ServerTransaction): void {
  const script = txScript(st);
  const own = ctx.flagState;
  if (own && own !== script.flags) script.flags = { msg: own.msg, branch: own.branch };
}

/** Binds a reply, failure or continue route run's flags to st's: what it sets, later runs see. */
export function shareFlags(ctx: RouteContext, st: ServerTransaction): void {
  ctx.flagState = txScript(st).flags ??= { msg: 0, branch: 0 };
}

/** Binds ctx's $avp store to st's: the one the request route started, or st's for later runs. */
export function shareAvps(ctx: RouteContext, st: ServerTransaction): void {
  const script = txScript(st);
  ctx.avps = script.avps ??= ctx.avps ?? new AvpStore();
}

/** The script state of st (tm leaves st.userData to its user; this is its only reader). */
export function txScript(st: ServerTransaction): TxScript {
  return (st.userData ??= { onReply: undefined, onFailure: undefined, failure: undefined }) as TxScript;
}
