// ctx.tm: Kamailio's t_newtran / t_reply / t_relay / t_on_reply / t_on_failure / t_suspend /
// t_continue, plus hold() for awaiting with the transaction in hand. The transaction is created on
// first need, so retransmissions are absorbed from then on.
import { TransactionError } from "../errors.js";
import type { ServerTransaction, TransactionLayer } from "../tm/index.js";
import type { RouteContext } from "./context.js";
import type { Engine } from "./engine.js";
import type { TmApi, TransactionId } from "./tm-api-types.js";
import { continueTransaction, txScript } from "./tm-glue.js";
import { isAddress, resolveHost, uriToTarget, type Target } from "./target.js";
import { routeRewrite, rrStateOf } from "./rr.js";
import { receivedViaLine } from "./via-received.js";

/** The transaction of ctx, created when missing; undefined when refused (503 already sent). */
export function ensureTransaction(engine: Engine, tm: TransactionLayer, ctx: RouteContext): ServerTransaction | undefined {
  const have = ctx.t as ServerTransaction | undefined;
  if (have) return have;
  const r = tm.create(ctx.msg, ctx.src);
  if ("ok" in r && r.ok === false) {
    if (r.code === "ERR_TM_LIMIT") engine.sl.sendReply(ctx, 503, "Service Unavailable");
    engine.logger.warn({ code: r.code }, r.detail);
    return undefined;
  }
  ctx.t = r;
  return ctx.t as ServerTransaction;
}

function relayTo(engine: Engine, tm: TransactionLayer, ctx: RouteContext, st: ServerTransaction, t: Target, addr: string): boolean {
  const msg = ctx.msg;
  txScript(st).rr = rrStateOf(ctx) ?? txScript(st).rr;
  const r = tm.relay(st, { proto: t.proto, addr, port: t.port }, (branch) => {
    const via = engine.forwarder.viaLine(t, branch);
    if (!via) throw new Error(`no ${t.proto} listener for our Via`);
    const fixedVia = receivedViaLine(msg, ctx.src);
    return msg.rewrite({
      requestUri: ctx.newUri,
      maxForwards: msg.maxForwards === undefined ? ctx.maxfwdLimit : msg.maxForwards - 1,
      removeTopVia: fixedVia !== undefined,
      prepend: [...engine.recordRouteLines(ctx, t), via, ...(fixedVia ? [fixedVia] : [])],
      ...routeRewrite(ctx),
    });
  });
  if ("ok" in r && r.ok === false) {
    engine.logger.warn({ code: r.code }, r.detail);
    return false;
  }
  return true;
}

export function createTmApi(engine: Engine, tm: TransactionLayer, ctx: RouteContext): TmApi {
  const st = (): ServerTransaction | undefined => ensureTransaction(engine, tm, ctx);
  return {
    newTran: () => st() !== undefined,
    reply(code, reason) {
      const t = st();
      ctx.replied = true;
      return t ? tm.reply(t, code, reason) : false;
    },
    relay(target) {
      const msg = ctx.msg;
      if (msg.method === "ACK") return engine.forwarder.forwardRequest(ctx, target);
      const t = uriToTarget(target ?? ctx.dstUri ?? ctx.ruri);
      if (!t) {
        engine.logger.warn({ code: "ERR_FORWARD_NO_TARGET", uri: target ?? ctx.dstUri ?? ctx.ruri }, "t_relay: no usable target");
        return false;
      }
      if (msg.maxForwards === 0) {
        const tx = st();
        if (tx) tm.reply(tx, 483, "Too Many Hops");
        return false;
      }
      const tx = st();
      if (!tx) return false;
      ctx.replied = true;
      if (isAddress(t.host)) return relayTo(engine, tm, ctx, tx, t, t.host);
      // Name targets: resolve, then relay; the lookup counts as a pending branch meanwhile, so a
      // continue or failure route that relays to a name is not answered before DNS is.
      tx.pendingLookups++;
      void resolveHost(t.host).then(
        (addr) => {
          tx.pendingLookups--;
          if (!relayTo(engine, tm, ctx, tx, t, addr)) tm.ensureReplied(tx, 500, "Server Error");
        },
        () => {
          tx.pendingLookups--;
          tm.ensureReplied(tx, 404, "Not Found");
        },
      );
      return true;
    },
    onReply(route) {
      const t = st();
      if (t) txScript(t).onReply = route;
    },
    onFailure(route) {
      const t = st();
      if (t) txScript(t).onFailure = route;
    },
    suspend(): TransactionId | undefined {
      const t = st();
      if (!t) return undefined;
      // Kamailio saves the request's lumps at t_suspend: a record_route() done before suspending
      // must still apply when the t_continue route relays.
      txScript(t).rr = rrStateOf(ctx) ?? txScript(t).rr;
      return tm.suspend(t);
    },
    continue: (index, label, route) => continueTransaction(engine, index, label, route),
    unsuspend() {
      const t = ctx.t as ServerTransaction | undefined;
      return t ? tm.unsuspend(t) : false;
    },
    hold<T>(promise: Promise<T>, opts?: { timeout?: number }): Promise<T> {
      const t = st();
      if (!t) return Promise.reject(new TransactionError("ERR_TM_LIMIT", "no transaction could be created"));
      return tm.hold(t, promise, opts ?? {});
    },
    id() {
      const t = ctx.t as ServerTransaction | undefined;
      return t ? { index: t.index, label: t.label } : undefined;
    },
  };
}
