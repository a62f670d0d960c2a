// Kamailio cfg functions of the modules evsip has as modules (evapi, jsonrpcc, htable, dialog),
// mapped onto ctx.evapi, ctx.jsonrpc, ctx.htable and ctx.dialog. The compiler only lets a cfg call
// them after its `loadmodule`, which is also what makes evsip run the module, so the API is there.
import type { EvapiApi } from "../modules/evapi/index.js";
import type { JsonRpcApi } from "../modules/jsonrpcc/index.js";
import type { HtableApi } from "../modules/htable/index.js";
import type { DialogApi } from "../modules/dialog/index.js";
import type { CfgCtx, CompiledArgs, FunctionSpec } from "./function-spec.js";
import { rc } from "./values.js";
import { BRANCH_ROUTE, FAILURE_ROUTE, ONREPLY_ROUTE, REQUEST_ROUTE } from "./route-types.js";

const evapi = (ctx: CfgCtx): EvapiApi => ctx.evapi as EvapiApi;
const jsonrpc = (ctx: CfgCtx): JsonRpcApi => ctx.jsonrpc as JsonRpcApi;
const htable = (ctx: CfgCtx): HtableApi => ctx.htable as HtableApi;
const dialog = (ctx: CfgCtx): DialogApi => ctx.dialog as DialogApi;

/** Kamailio's evapi functions return the number of clients reached; none is false. */
const sent = (n: number): number => rc(n > 0);

/** evapi_async_*: the data is expanded after the suspension, so $T(id_index) names this transaction. */
/** evapi_multicast / evapi_unicast(data, tag): the event to the clients of one tag. */
function sendToTag(kind: "multicast" | "unicast"): FunctionSpec {
  return {
    module: "evapi",
    args: ["s", "s"],
    build: (a) => {
      const [data, tag] = [a.str(0), a.str(1)];
      return (ctx) => sent(evapi(ctx)[kind](data(ctx), tag(ctx)));
    },
  };
}

function asyncSend(kind: "relay" | "multicast" | "unicast"): FunctionSpec {
  return {
    module: "evapi",
    routes: REQUEST_ROUTE,
    args: kind === "relay" ? ["s"] : ["s", "s"],
    build: (a) => {
      const data = a.str(0);
      if (kind === "relay") return (ctx) => sent(evapi(ctx).asyncRelay(() => data(ctx)));
      const tag = a.str(1);
      if (kind === "multicast") return (ctx) => sent(evapi(ctx).asyncMulticast(() => data(ctx), tag(ctx)));
      return (ctx) => sent(evapi(ctx).asyncUnicast(() => data(ctx), tag(ctx)));
    },
  };
}

/** A dialog profile function: (profile) or (profile, value). */
function profileFn(op: (d: DialogApi, profile: string, value: string | undefined) => boolean): FunctionSpec {
  return {
    module: "dialog",
    args: ["s", "s"],
    min: 1,
    build: (a) => {
      const profile = a.str(0);
      if (a.count === 1) return (ctx) => rc(op(dialog(ctx), profile(ctx), undefined));
      const value = a.str(1);
      return (ctx) => rc(op(dialog(ctx), profile(ctx), value(ctx)));
    },
  };
}

/** sht_setxi / sht_setxs: set an item and its expiry (seconds). */
function setWithExpiry(asInt: boolean): FunctionSpec {
  return {
    module: "htable",
    args: ["s", "s", asInt ? "i" : "s", "i"],
    build: (a: CompiledArgs) => {
      const [table, key] = [a.str(0), a.str(1)];
      const value = asInt ? a.int(2) : a.str(2);
      const expire = a.int(3);
      return (ctx) => {
        const h = htable(ctx);
        const t = table(ctx);
        const k = key(ctx);
        h.set(t, k, value(ctx));
        return rc(h.setExpire(t, k, expire(ctx)));
      };
    },
  };
}

export const MODULE_FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  evapi_relay: {
    module: "evapi",
    args: ["s"],
    build: (a) => {
      const data = a.str(0);
      return (ctx) => sent(evapi(ctx).relay(data(ctx)));
    },
  },
  evapi_multicast: sendToTag("multicast"),
  evapi_unicast: sendToTag("unicast"),
  evapi_async_relay: asyncSend("relay"),
  evapi_async_multicast: asyncSend("multicast"),
  evapi_async_unicast: asyncSend("unicast"),
  evapi_close: { module: "evapi", args: [], build: () => (ctx) => rc(evapi(ctx).close()) },
  evapi_set_tag: {
    module: "evapi",
    args: ["s"],
    build: (a) => {
      const tag = a.str(0);
      return (ctx) => rc(evapi(ctx).setTag(tag(ctx)));
    },
  },
  jsonrpc_request: {
    module: "jsonrpcc",
    args: ["s", "s", "route", "route", "pv"],
    build: (a) => {
      const [method, params] = [a.str(0), a.str(1)];
      const [ok, error, result] = [a.name(2), a.name(3), a.name(4)];
      return (ctx) => rc(jsonrpc(ctx).request(method(ctx), params(ctx), ok, error, result));
    },
  },
  jsonrpc_notification: {
    module: "jsonrpcc",
    args: ["s", "s"],
    build: (a) => {
      const [method, params] = [a.str(0), a.str(1)];
      return (ctx) => rc(jsonrpc(ctx).notification(method(ctx), params(ctx)));
    },
  },
  sht_rm: {
    module: "htable",
    args: ["s", "s"],
    build: (a) => {
      const [table, key] = [a.str(0), a.str(1)];
      return (ctx) => rc(htable(ctx).delete(table(ctx), key(ctx)));
    },
  },
  sht_setxi: setWithExpiry(true),
  sht_setxs: setWithExpiry(false),
  dlg_manage: { module: "dialog", routes: REQUEST_ROUTE, args: [], build: () => (ctx) => rc(dialog(ctx).manage()) },
  dlg_bye: {
    module: "dialog",
    args: ["s"],
    build: (a) => {
      const side = a.str(0);
      return (ctx) => {
        const s = side(ctx);
        return rc((s === "caller" || s === "callee" || s === "all") && dialog(ctx).bye(s));
      };
    },
  },
  dlg_set_timeout: {
    module: "dialog",
    args: ["i"],
    build: (a) => {
      const seconds = a.int(0);
      return (ctx) => rc(dialog(ctx).setTimeout(seconds(ctx)));
    },
  },
  set_dlg_profile: profileFn((d, p, v) => d.setProfile(p, v)),
  unset_dlg_profile: {
    ...profileFn((d, p, v) => d.unsetProfile(p, v)),
    routes: REQUEST_ROUTE | FAILURE_ROUTE | ONREPLY_ROUTE | BRANCH_ROUTE,
  },
  is_in_profile: profileFn((d, p, v) => d.isInProfile(p, v)),
  // get_profile_size(profile, [value,] $dst): the size is written to the last argument.
  get_profile_size: {
    module: "dialog",
    args: ["s", "s", "s"],
    min: 2,
    build: (a) => {
      const profile = a.str(0);
      const dst = a.pv(a.count - 1);
      const value = a.count === 3 ? a.str(1) : undefined;
      return (ctx) => {
        ctx.setPv(dst, dialog(ctx).profileSize(profile(ctx), value?.(ctx)));
        return 1;
      };
    },
  },
};
