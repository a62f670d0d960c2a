// evsip's transaction user: the engine's TransactionUser on top of the transaction layer. Every
// message is offered to tm first; tm's callbacks run the user's reply and failure routes; the
// script's tm functions (ctx.tm, and modules through ModuleHost.tm) are its methods on a context.
import type { Logger } from "pino";
import type { SipMessageLike } from "../sip/types.js";
import type { Source } from "../transport/types.js";
import { TransactionError } from "../errors.js";
import {
  TransactionLayer,
  type HoldOptions,
  type ServerTransaction,
  type SuspensionWatcher,
  type TmCallbacks,
  type TmStats,
} from "../tm/index.js";
import type { RouteContext } from "../core/context.js";
import type { Engine, RouteFn } from "../core/engine.js";
import type {
  InDialogOutcome,
  InDialogRequest,
  TransactionId,
  TransactionObserver,
  TransactionUser,
} from "../core/transaction-user.js";
import { Observers } from "./observers.js";
import { keepRouteState, relay } from "./relay.js";
import { requestWithin } from "./request-within.js";
import { runContinueRoute, runFailureRoute, runReplyRoutes } from "./route-runs.js";
import { keepFlags, shareAvps, txScript } from "./script-state.js";
import { registerTPv } from "./t-pv.js";
import type { TmParams } from "./tm-params.js";

export class StatefulTransactionUser implements TransactionUser {
  readonly tm: TransactionLayer;
  private readonly engine: Engine;
  private readonly observers: Observers;
  private idleWaiters: Array<() => void> = [];

  constructor(engine: Engine, params: TmParams) {
    this.engine = engine;
    // Counted with tm's own hook failures (evsip_tm_errors_total{reason}); the layer exists by the time one throws.
    this.observers = new Observers((err, what) => this.tm.hookFailed(err, `transaction observer ${what}`));
    const obs = this.observers;
    const callbacks: TmCallbacks = {
      onReply: (st, _branch, res, src) => {
        obs.response(st, res);
        return runReplyRoutes(engine, st, res, src);
      },
      onFailure: (st, failure) => runFailureRoute(engine, st, failure),
      onSent: (st, status) => {
        obs.sent(st, status);
        if (status >= 200) this.checkIdle();
      },
      onEnded: (st) => {
        obs.ended(st);
        this.checkIdle();
      },
    };
    this.tm = new TransactionLayer({ ...params, transport: engine.transport, logger: engine.logger }, callbacks);
    registerTPv(engine.pvs);
  }

  get stats(): TmStats {
    return this.tm.stats;
  }

  get unfinished(): number {
    return this.tm.unfinished;
  }

  whenIdle(): Promise<void> {
    if (this.tm.unfinished === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  answerUnfinished(status: number, reason: string, headers: readonly string[]): number {
    return this.tm.answerUnfinished(status, reason, headers);
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || this.tm.unfinished > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private get logger(): Logger {
    return this.engine.logger;
  }

  receiveRequest(msg: SipMessageLike, src: Source): "absorbed" | "new" {
    return this.tm.handleRequest(msg, src);
  }

  receiveResponse(msg: SipMessageLike, src: Source): "absorbed" | "unmatched" {
    const r = this.tm.handleResponse(msg, src);
    if (r === "unmatched") this.observers.strayResponse(msg);
    return r;
  }

  beginRequest(ctx: RouteContext): void {
    this.observers.request(ctx);
  }

  /** ctx's transaction, created when missing; undefined when refused (503 already sent). */
  ensure(ctx: RouteContext): ServerTransaction | undefined {
    if (ctx.t) return ctx.t;
    const r = this.tm.create(ctx.msg, ctx.src);
    if (!r.ok) {
      if (r.code === "ERR_TM_LIMIT") this.engine.sl.sendReply(ctx, 503, "Service Unavailable");
      // The router's one rate-limited log: past maxTransactions every new request is refused.
      this.engine.transport.log.warn(r.code, r.detail);
      return undefined;
    }
    ctx.t = r;
    shareAvps(ctx, r);
    keepFlags(ctx, r);
    return r;
  }

  adopt(ctx: RouteContext): void {
    if (ctx.t) return;
    const r = this.tm.create(ctx.msg, ctx.src);
    if (r.ok) {
      ctx.t = r;
      shareAvps(ctx, r);
      keepFlags(ctx, r);
    }
  }

  release(ctx: RouteContext): void {
    if (ctx.t) this.tm.release(ctx.t);
  }

  failRoute(ctx: RouteContext): boolean {
    const st = ctx.t;
    if (!st) return false;
    this.tm.unsuspend(st); // a route that failed after t_suspend: nobody will continue it
    this.tm.ensureReplied(st, 500, "Server Error");
    return true;
  }

  replyIfStateful(ctx: RouteContext, code: number, reason: string): boolean | undefined {
    if (!ctx.t) return undefined;
    return ctx.replyHeaders
      ? this.tm.reply(ctx.t, code, reason, { headers: ctx.replyHeaders })
      : this.tm.reply(ctx.t, code, reason);
  }

  newTran(ctx: RouteContext): boolean {
    return this.ensure(ctx) !== undefined;
  }

  reply(ctx: RouteContext, code: number, reason: string): boolean {
    const st = this.ensure(ctx);
    ctx.replied = true;
    if (!st) return false;
    const headers = ctx.replyHeaders ? [...(ctx.extraHeaders ?? []), ...ctx.replyHeaders] : ctx.extraHeaders;
    return headers ? this.tm.reply(st, code, reason, { headers }) : this.tm.reply(st, code, reason);
  }

  relay(ctx: RouteContext, target?: string): boolean {
    return relay(this.engine, this, ctx, target);
  }

  onReply(ctx: RouteContext, route: string): void {
    const st = this.ensure(ctx);
    if (st) txScript(st).onReply = route;
  }

  onFailure(ctx: RouteContext, route: string): void {
    const st = this.ensure(ctx);
    if (st) txScript(st).onFailure = route;
  }

  suspend(ctx: RouteContext, watcher?: SuspensionWatcher): TransactionId | undefined {
    const st = this.ensure(ctx);
    if (!st) return undefined;
    keepRouteState(ctx, st);
    return this.tm.suspend(st, watcher);
  }

  unsuspend(ctx: RouteContext): boolean {
    return ctx.t ? this.tm.unsuspend(ctx.t) : false;
  }

  continue(
    index: number | string,
    label: number | string,
    route: string | RouteFn,
    setup?: (ctx: RouteContext) => void,
  ): boolean {
    return runContinueRoute(this.engine, this.tm, index, label, route, setup);
  }

  hold<T>(ctx: RouteContext, promise: Promise<T>, opts?: HoldOptions): Promise<T> {
    const st = this.ensure(ctx);
    if (!st) return Promise.reject(new TransactionError("ERR_TM_LIMIT", "no transaction could be created"));
    keepRouteState(ctx, st);
    return this.tm.hold(st, promise, opts ?? {});
  }

  held(ctx: RouteContext): boolean {
    return ctx.t?.isHeld === true;
  }

  isCancelled(ctx: RouteContext): boolean {
    return ctx.t?.isCancelled === true;
  }

  id(ctx: RouteContext): TransactionId | undefined {
    const st = ctx.t;
    return st ? { index: st.index, label: st.label } : undefined;
  }

  observe(observer: TransactionObserver): void {
    this.observers.add(observer);
  }

  requestWithin(req: InDialogRequest, done: (outcome: InDialogOutcome) => void): boolean {
    return requestWithin(this.engine, this.tm, req, done);
  }

  stop(): void {
    this.tm.stop();
  }
}

/** The factory the server hands the engine: a transaction user with the app's tm params. */
export function statefulTransactionUser(params: TmParams): (engine: Engine) => StatefulTransactionUser {
  return (engine) => new StatefulTransactionUser(engine, params);
}
