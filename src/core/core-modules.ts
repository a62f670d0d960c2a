// The core's own pieces as modules, as in Kamailio where sl, maxfwd, rr and tm are modules too:
// they go through the same contract as evapi or htable (params with defaults, create, the context
// API, stop), and the server always loads them, before the app's modules.
import type { SlApi, MaxfwdApi } from "./context-types.js";
import type { ModuleDefinition } from "./module.js";
import { createRrApi } from "./rr.js";
import { createTmApi } from "./tm-api.js";
import type { RrApi, TmApi } from "./tm-api-types.js";
import { attachTm } from "./tm-glue.js";
import { TM_SCHEMA, type TmParams } from "./tm-params.js";

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

/** tm: transactions, suspend/continue; its params are the app's `tm`. */
export const tmModule: ModuleDefinition<TmParams, TmApi> = {
  name: "tm",
  ctxName: "tm",
  params: TM_SCHEMA,
  create: (host, params) => {
    const tm = attachTm(host.engine, params);
    return {
      api: (ctx) => createTmApi(host.engine, tm, ctx),
      stop: () => tm.stop(),
    };
  },
};

/** Loaded by every server, in this order. */
export const CORE_MODULES = [slModule, maxfwdModule, rrModule, tmModule] as const;
