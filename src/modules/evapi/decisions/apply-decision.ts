// Applies a checked decision to a route context that holds the transaction: a t_continue route
// (ctx.evapi.decide) or the request route after `await ctx.evapi.request()`
// (ctx.evapi.applyDecision). $var and $dlg_var first, so an allow route reads them; the header lines
// go on whatever this route run relays or replies (RouteContext.extraHeaders); then the action.
import type { RouteContext } from "../../../core/context.js";
import type { TransactionApi } from "../../../core/transaction-user.js";
import type { ParsedDecision } from "./decision.js";

/** What `allow` does: relay (default) or run the app's named route. */
export interface ApplyOptions {
  /** A named route (`routes`) run for allow instead of relaying; it reads the decision's $var values. */
  readonly allow?: string;
}

/** Runs the decision on ctx; returns the allow route's promise when that route is async. */
export function applyDecision(
  ctx: RouteContext,
  d: ParsedDecision,
  tm: TransactionApi,
  opts: ApplyOptions | undefined,
): void | Promise<void> {
  if (d.vars.length > 0) {
    const vars = (ctx.vars ??= new Map());
    for (const [name, value] of d.vars) vars.set(name, value);
  }
  for (const [name, value] of d.dlgVars) ctx.setPv(`$dlg_var(${name})`, String(value));
  if (d.headerLines.length > 0) ctx.extraHeaders = d.headerLines;
  switch (d.action) {
    case "allow":
      if (opts?.allow !== undefined) return ctx.route(opts.allow);
      tm.relay(ctx);
      return;
    case "reject":
    case "redirect":
      tm.reply(ctx, d.code, d.reason);
      return;
    case "drop":
      // No response at all: the transaction is forgotten (after its 100 Trying an INVITE's caller
      // stops retransmitting and gives up on its own timer B).
      tm.release(ctx);
      return;
  }
}

/** True when the app loaded a module that provides $dlg_var (the dialog module). */
export function hasDlgVar(ctx: RouteContext): boolean {
  try {
    ctx.engine.pvs.compile("$dlg_var(x)");
    return true;
  } catch {
    return false;
  }
}
