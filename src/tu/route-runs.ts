// The routes tm triggers: onreply_route (global, then the armed t_on_reply route), failure_route,
// and the route t_continue names. Each runs on a context that carries the transaction and, for
// failure and continue routes, the record-route state the request route left on it.
import type { SipMessageLike } from "../sip/types.js";
import type { ServerTransaction, TmFailure, ReplyVerdict, TransactionLayer } from "../tm/index.js";
import type { Source } from "../transport/types.js";
import type { RouteContext } from "../core/context.js";
import type { Engine, RouteFn } from "../core/engine.js";
import { inheritRrState } from "../core/rr.js";
import { withEdits, type HeaderEdits } from "../core/header-edits.js";
import { inheritHeaderEdits, shareAvps, shareFlags, txScript } from "./script-state.js";

function sipContext(
  engine: Engine,
  kind: "reply" | "failure" | "branch",
  st: ServerTransaction,
  msg: SipMessageLike,
  src: Source,
): RouteContext {
  const ctx = engine.newContext(kind, msg, src);
  ctx.t = st;
  shareAvps(ctx, st);
  shareFlags(ctx, st);
  if (kind !== "reply") {
    inheritRrState(ctx, txScript(st).rr);
    inheritHeaderEdits(ctx, st);
  }
  return ctx;
}

/**
 * onreply_route (global) then the armed t_on_reply route; "drop" when either called drop().
 * Synchronous while the routes are (no route at all is the common proxy case): the response is
 * forwarded in the same tick, without a promise chain per response; async routes are awaited.
 */
export function runReplyRoutes(
  engine: Engine,
  st: ServerTransaction,
  res: SipMessageLike,
  src: Source | undefined,
): ReplyVerdict | Promise<ReplyVerdict> {
  const global = engine.app.reply;
  const armed = txScript(st).onReply;
  const fn = armed ? engine.app.routes?.[armed] : undefined;
  if (!global && !fn) return undefined;
  const routes: Array<[RouteFn, string, boolean]> = [];
  if (global) routes.push([global, "reply", true]);
  if (fn && armed) routes.push([fn, armed, false]);
  return runReplyRoutesFrom(engine, routes, 0, st, res, src, { append: [], remove: [] });
}

/** The routes from `from` on; `edits` gathers every route's append_hf/remove_hf on this one reply. */
function runReplyRoutesFrom(
  engine: Engine,
  routes: Array<[RouteFn, string, boolean]>,
  from: number,
  st: ServerTransaction,
  res: SipMessageLike,
  src: Source | undefined,
  edits: HeaderEdits,
): ReplyVerdict | Promise<ReplyVerdict> {
  for (let i = from; i < routes.length; i++) {
    const [route, name, global] = routes[i] as [RouteFn, string, boolean];
    // $si/$sp/$pr in a reply route are the peer that sent the reply, as in Kamailio.
    const ctx = sipContext(engine, "reply", st, res, src ?? st.src);
    // Kamailio runs the global onreply_route on the reply before tm has matched it: the reply's
    // own flags (none), not the transaction's.
    if (global) ctx.flagState = undefined;
    ctx.reply = res;
    ctx.headerEdits = edits;
    const dropped = engine.runTop(route, ctx, name);
    if (dropped instanceof Promise) {
      return dropped.then((d) => (d ? "drop" : runReplyRoutesFrom(engine, routes, i + 1, st, res, src, edits)));
    }
    if (dropped) return "drop";
  }
  return edits.append.length > 0 || edits.remove.length > 0 ? res.rewrite(withEdits({ removeTopVia: true }, edits)) : undefined;
}

/** failure_route: runs once per arming (Kamailio resets t_on_failure before running it). */
export async function runFailureRoute(engine: Engine, st: ServerTransaction, failure: TmFailure): Promise<void> {
  const script = txScript(st);
  script.failure = failure;
  const name = script.onFailure;
  script.onFailure = undefined;
  const fn = name ? engine.app.routes?.[name] : undefined;
  if (!fn || !name) return;
  const ctx = sipContext(engine, "failure", st, st.msg, st.src);
  if (failure.response) ctx.reply = failure.response;
  await engine.runTop(fn, ctx, name);
}

/**
 * t_continue: false for an unknown route or an unknown/finished/not-suspended transaction (tm
 * parses and checks the identifiers); true otherwise. A transaction cancelled while suspended
 * returns true and runs nothing. The route runs with failure-route powers; if it ends with neither
 * a reply nor a pending branch, 500 goes out.
 */
export function runContinueRoute(
  engine: Engine,
  tm: TransactionLayer,
  index: number | string,
  label: number | string,
  route: string | RouteFn,
  setup?: (ctx: RouteContext) => void,
): boolean {
  // A function is a route of its own (a module applying a decision); a string names the app's.
  const fn = typeof route === "string" ? engine.app.routes?.[route] : route;
  if (!fn) {
    engine.logger.warn({ code: "ERR_ROUTE_NOT_FOUND", route }, "t_continue: no such route");
    return false;
  }
  const st = tm.continue(index, label);
  if (st === false) return false;
  if (st.isCancelled) return true;
  const ctx = sipContext(engine, "branch", st, st.msg, st.src);
  setup?.(ctx);
  const done = (): void => {
    tm.ensureReplied(st, 500, "Server Error");
  };
  const r = engine.runTop(fn, ctx, typeof route === "string" ? route : "t_continue");
  if (r instanceof Promise) r.then(done).catch((err: unknown) => engine.internalError(err, "t_continue"));
  else done();
  return true;
}
