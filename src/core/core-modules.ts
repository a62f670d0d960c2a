// The core's own pieces as modules, as in Kamailio where sl, maxfwd, rr and tm are modules too:
// they go through the same contract as evapi or htable (params with defaults, create, the context
// API, stop), and the server always loads them, before the app's modules.
import type { SlApi, MaxfwdApi, RrApi, TmApi, JsonApi, JanssonApi } from "./context-types.js";
import { createJanssonApi, createJsonApi } from "./json-functions.js";
import type { ModuleDefinition } from "./module.js";
import { createRrApi } from "./rr.js";

type NoParams = Record<string, never>;

/** sl: stateless replies (`sl_send_reply`). */
export const slModule: ModuleDefinition<NoParams, SlApi> = {
  name: "sl",
  ctxName: "sl",
  params: {},
  create: (host) => ({
    api: (ctx) => ({ sendReply: (code, reason) => host.engine.sl.sendReply(ctx, code, reason) }),
  }),
};

/** maxfwd: `mf_process_maxfwd_header`. */
export const maxfwdModule: ModuleDefinition<NoParams, MaxfwdApi> = {
  name: "maxfwd",
  ctxName: "maxfwd",
  params: {},
  create: (host) => ({
    api: (ctx) => ({ process: (limit = 70) => host.engine.maxfwdProcess(ctx, limit) }),
  }),
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
  create: ({ tm }) => ({
    api: (ctx) => ({
      newTran: () => tm.newTran(ctx),
      reply: (code, reason) => tm.reply(ctx, code, reason),
      relay: (target) => tm.relay(ctx, target),
      onReply: (route) => tm.onReply(ctx, route),
      onFailure: (route) => tm.onFailure(ctx, route),
      suspend: () => tm.suspend(ctx),
      // Kamailio runs the continued route in the process that called t_continue, so it sees (and
      // may change) that process's $var: the continued route shares the caller's $var store.
      continue: (index, label, route) => tm.continue(index, label, route, (c) => (c.vars = ctx.vars ??= new Map())),
      unsuspend: () => tm.unsuspend(ctx),
      hold: (promise, opts) => tm.hold(ctx, promise, opts),
      id: () => tm.id(ctx),
    }),
  }),
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
