// What the script decided for a server transaction, kept on it so later route runs of the same
// transaction (reply, failure, t_continue) see it: the armed routes, the last failure, and the
// record/loose-route decisions of the request route.
import type { ServerTransaction, TmFailure } from "../tm/index.js";
import type { RrState } from "../core/rr.js";
import { AvpStore } from "../core/avp-store.js";
import type { RouteContext } from "../core/context.js";
import type { FlagState } from "../core/msg-flags.js";
import { copyEdits, type HeaderEdits } from "../core/header-edits.js";

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
  /** The request route's append_hf/remove_hf and append_to_reply, kept as Kamailio keeps its lumps. */
  headers?: { edits: HeaderEdits | undefined; reply: string[] | undefined } | undefined;
}

/**
 * Keeps the request route's header edits with st when it relays or suspends, as Kamailio keeps
 * the request's lumps in the transaction: its failure and continue routes start from them. What
 * those routes add stays theirs (Kamailio frees a failure route's lumps after it).
 */
export function keepHeaderEdits(ctx: RouteContext, st: ServerTransaction): void {
  if (ctx.kind !== "request" || (!ctx.headerEdits && !ctx.replyHeaders)) return;
  txScript(st).headers = { edits: copyEdits(ctx.headerEdits), reply: ctx.replyHeaders && [...ctx.replyHeaders] };
}

/** A failure or continue route run starts from the request route's kept header edits. */
export function inheritHeaderEdits(ctx: RouteContext, st: ServerTransaction): void {
  const kept = txScript(st).headers;
  if (!kept) return;
  ctx.headerEdits = copyEdits(kept.edits);
  ctx.replyHeaders = kept.reply && [...kept.reply];
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
