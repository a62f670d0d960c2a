// The core's own pieces as modules, as in Kamailio where sl, maxfwd, rr and tm are modules too:
// they go through the same contract as evapi or htable (params with defaults, create, the context
// API, stop), and the server always loads them, before the app's modules.
import type { SlApi, MaxfwdApi, RrApi, TmApi, JsonApi, JanssonApi } from "./context-types.js";
import { createJanssonApi, createJsonApi } from "./json-functions.js";
import type { ModuleDefinition } from "./module.js";
import { createRrApi } from "./rr.js";
import type { RouteContext } from "./context.js";
import type { Engine } from "./engine.js";
import type { TransactionApi, TransactionId } from "./transaction-user.js";

type NoParams = Record<string, never>;

// The per-route-run APIs are small classes, not object literals of closures: a context gets its
// ctx.tm / ctx.sl / ctx.maxfwd once per run, and a closure per method was most of what that cost.

/** What the engine-backed APIs hold: the engine and the route run they act for. */
abstract class EngineBound {
  protected readonly engine: Engine;
  protected readonly ctx: RouteContext;
  constructor(engine: Engine, ctx: RouteContext) {
    this.engine = engine;
    this.ctx = ctx;
  }
}

class SlContextApi extends EngineBound implements SlApi {
  sendReply(code: number, reason: string): boolean {
    return this.engine.sl.sendReply(this.ctx, code, reason);
  }
}

class MaxfwdContextApi extends EngineBound implements MaxfwdApi {
  process(limit = 70): boolean {
    return this.engine.maxfwdProcess(this.ctx, limit);
  }
}

class TmContextApi implements TmApi {
  private readonly tm: TransactionApi;
  private readonly ctx: RouteContext;
  constructor(tm: TransactionApi, ctx: RouteContext) {
    this.tm = tm;
    this.ctx = ctx;
  }
  newTran(): boolean {
    return this.tm.newTran(this.ctx);
  }
  reply(code: number, reason: string): boolean {
    return this.tm.reply(this.ctx, code, reason);
  }
  relay(target?: string): boolean {
    return this.tm.relay(this.ctx, target);
  }
  onReply(route: string): void {
    this.tm.onReply(this.ctx, route);
  }
  onFailure(route: string): void {
    this.tm.onFailure(this.ctx, route);
  }
  suspend(): TransactionId | undefined {
    return this.tm.suspend(this.ctx);
  }
  // Kamailio runs the continued route in the process that called t_continue, so it sees (and may
  // change) that process's $var: the continued route shares the caller's $var store.
  continue(index: number | string, label: number | string, route: string): boolean {
    const ctx = this.ctx;
    return this.tm.continue(index, label, route, (c) => (c.vars = ctx.vars ??= new Map()));
  }
  unsuspend(): boolean {
    return this.tm.unsuspend(this.ctx);
  }
  hold<T>(promise: Promise<T>, opts?: { timeout?: number }): Promise<T> {
    return this.tm.hold(this.ctx, promise, opts);
  }
  id(): TransactionId | undefined {
    return this.tm.id(this.ctx);
  }
  isCancelled(): boolean {
    return this.tm.isCancelled(this.ctx);
  }
}

/** sl: stateless replies (`sl_send_reply`). */
export const slModule: ModuleDefinition<NoParams, SlApi> = {
  name: "sl",
  ctxName: "sl",
  params: {},
  create: (host) => ({ api: (ctx) => new SlContextApi(host.engine, ctx) }),
};

/** maxfwd: `mf_process_maxfwd_header`. */
export const maxfwdModule: ModuleDefinition<NoParams, MaxfwdApi> = {
  name: "maxfwd",
  ctxName: "maxfwd",
  params: {},
  create: (host) => ({ api: (ctx) => new MaxfwdContextApi(host.engine, ctx) }),
};

/** rr: `record_route`, `loose_route`. */
export const rrModule: ModuleDefinition<NoParams, RrApi> = {
  name: "rr",
  ctxName: "rr",
  params: {},
  create: (host) => ({ api: (ctx) => createRrApi(host.engine, ctx) }),
};

/**
 * tm: ctx.tm is the engine's transaction user bound to one route run. Its params are the app's
 * `tm`, validated with the app and given to the transaction user when the engine is built.
 */
export const tmModule: ModuleDefinition<NoParams, TmApi> = {
  name: "tm",
  ctxName: "tm",
  params: {},
  create: ({ tm }) => ({ api: (ctx) => new TmContextApi(tm, ctx) }),
};

/** json: `json_get_field`, `json_get_string`. */
export const jsonModule: ModuleDefinition<NoParams, JsonApi> = {
  name: "json",
  ctxName: "json",
  params: {},
  create: () => ({ api: createJsonApi }),
};

/** jansson: `jansson_get`, `jansson_set`, `jansson_append`. */
export const janssonModule: ModuleDefinition<NoParams, JanssonApi> = {
  name: "jansson",
  ctxName: "jansson",
  params: {},
  create: () => ({ api: createJanssonApi }),
};

/** Loaded by every server, in this order. */
export const CORE_MODULES = [slModule, maxfwdModule, rrModule, tmModule, jsonModule, janssonModule] as const;
