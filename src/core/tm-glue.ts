// Binds the transaction layer to the engine: every message is offered to tm first, tm's hooks run
// the user's reply and failure routes, and t_continue runs a named route with failure-route powers.
// Per-transaction script state (armed routes) lives on st.userData.
import type { SipMessageLike } from "../sip/types.js";
import type { Source } from "../transport/types.js";
import { TransactionLayer, type ServerTransaction, type TmFailure, type ReplyVerdict, type TmOptions } from "../tm/index.js";
import type { RouteContext } from "./context.js";
import type { Engine, RouteFn } from "./engine.js";
import { parseIdentArg } from "./tm-ident.js";
import { inheritRrState, type RrState } from "./rr.js";

/** Script state kept with a server transaction. */
export interface TxScript {
  onReply: string | undefined;
  onFailure: string | undefined;
  /** The last failure, for $T(reply_code) in the failure route. */
  failure: TmFailure | undefined;
  /** Record-Route / Route decisions of the request route, kept for later branches. */
  rr?: RrState | undefined;
}

export function txScript(st: ServerTransaction): TxScript {
  return (st.userData ??= { onReply: undefined, onFailure: undefined, failure: undefined }) as TxScript;
}

/** Creates the TransactionLayer of an engine and wires it both ways. */
export function attachTm(engine: Engine, opts: TmOptions): TransactionLayer {
  const tm = new TransactionLayer(
    { ...opts, transport: engine.transport, logger: engine.logger },
    {
      onReply: (st, _branch, res, src) => runReplyRoutes(engine, st, res, src),
      onFailure: (st, failure) => runFailureRoute(engine, st, failure),
    },
  );
  engine.tm = tm;
  engine.tmHooks = {
    handleRequest: (msg, src) => tm.handleRequest(msg, src),
    handleResponse: (msg, src) => tm.handleResponse(msg, src),
    adopt: (ctx) => {
      if (ctx.t) return;
      const r = tm.create(ctx.msg, ctx.src);
      if (r.ok) ctx.t = r;
    },
    release: (ctx) => {
      const st = ctx.t as ServerTransaction | undefined;
      if (st) tm.release(st);
    },
    replyIfStateful: (ctx, code, reason) => {
      const st = ctx.t as ServerTransaction | undefined;
      return st ? tm.reply(st, code, reason) : undefined;
    },
    failTransaction: (ctx) => {
      const st = ctx.t as ServerTransaction | undefined;
      if (!st) return false;
      tm.unsuspend(st); // a route that failed after t_suspend: nobody will continue it
      tm.ensureReplied(st, 500, "Server Error");
      return true;
    },
  };
  engine.pvs.register("T", {
    get: (ctx, arg) => {
      const st = ctx.t as ServerTransaction | undefined;
      switch (arg) {
        case "id_index":
          return st ? st.index : null;
        case "id_label":
          return st ? st.label : null;
        case "reply_code":
          return st ? (txScript(st).failure?.status ?? (st.lastStatus || null)) : null;
        case "reply_reason":
          return st ? (txScript(st).failure?.reason ?? null) : null;
        case "branch_index":
          return st ? Math.max(0, st.branches.length - 1) : null;
        default:
          return null;
      }
    },
  });
  return tm;
}

function sipContext(engine: Engine, kind: "reply" | "failure" | "branch", st: ServerTransaction, msg: SipMessageLike, src: Source): RouteContext {
  const ctx = engine.newContext(kind, msg, src);
  ctx.t = st;
  if (kind !== "reply") inheritRrState(ctx, txScript(st).rr);
  return ctx;
}

/**
 * onreply_route (global) then the armed t_on_reply route; "drop" when either called drop().
 * Synchronous while the routes are (no route at all is the common proxy case): the response is
 * forwarded in the same tick, without a promise chain per response; async routes are awaited.
 */
function runReplyRoutes(
  engine: Engine,
  st: ServerTransaction,
  res: SipMessageLike,
  src: Source | undefined,
): ReplyVerdict | Promise<ReplyVerdict> {
  const global = engine.app.reply;
  const armed = txScript(st).onReply;
  const fn = armed ? engine.app.routes?.[armed] : undefined;
  if (!global && !fn) return undefined;
  const routes: Array<[RouteFn, string]> = [];
  if (global) routes.push([global, "reply"]);
  if (fn && armed) routes.push([fn, armed]);
  return runReplyRoutesFrom(engine, routes, 0, st, res, src);
}

function runReplyRoutesFrom(
  engine: Engine,
  routes: Array<[RouteFn, string]>,
  from: number,
  st: ServerTransaction,
  res: SipMessageLike,
  src: Source | undefined,
): ReplyVerdict | Promise<ReplyVerdict> {
  for (let i = from; i < routes.length; i++) {
    const [route, name] = routes[i] as [RouteFn, string];
    // $si/$sp/$pr in a reply route are the peer that sent the reply, as in Kamailio.
    const ctx = sipContext(engine, "reply", st, res, src ?? st.src);
    ctx.reply = res;
    const dropped = engine.runTop(route, ctx, name);
    if (dropped instanceof Promise) {
      return dropped.then((d) => (d ? "drop" : runReplyRoutesFrom(engine, routes, i + 1, st, res, src)));
    }
    if (dropped) return "drop";
  }
  return undefined;
}

/** failure_route: runs once per arming (Kamailio resets t_on_failure before running it). */
async function runFailureRoute(engine: Engine, st: ServerTransaction, failure: TmFailure): Promise<void> {
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
 * t_continue: false for an unknown route or an unknown/finished/not-suspended transaction; true
 * otherwise. A transaction cancelled while suspended returns true and runs nothing. The route runs
 * with failure-route powers; if it ends with neither a reply nor a pending branch, 500 goes out.
 */
export function continueTransaction(
  engine: Engine,
  index: number | string,
  label: number | string,
  route: string,
  setup?: (ctx: RouteContext) => void,
): boolean {
  const tm = engine.tm;
  const fn = engine.app.routes?.[route];
  if (!tm || !fn) {
    engine.logger.warn({ code: "ERR_ROUTE_NOT_FOUND", route }, "t_continue: no such route");
    return false;
  }
  const i = parseIdentArg(index);
  const l = parseIdentArg(label);
  if (i === undefined || l === undefined) return false;
  const st = tm.continue(i, l);
  if (st === false) return false;
  if (st.isCancelled) return true;
  const ctx = sipContext(engine, "branch", st, st.msg, st.src);
  setup?.(ctx);
  const done = (): void => {
    tm.ensureReplied(st, 500, "Server Error");
  };
  const r = engine.runTop(fn, ctx, route);
  if (r instanceof Promise) r.then(done).catch((err: unknown) => engine.internalError(err, "t_continue"));
  else done();
  return true;
}
