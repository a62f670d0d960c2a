// Kamailio cfg functions of the modules evsip builds in (sl, tm, tmx, rr, maxfwd, siputils,
// textops, xlog, json, jansson, cfgutils, core), each mapped onto the route context a TypeScript
// app uses. docs/kamailio-cfg.md lists them with what differs.
import type { XlogLevel } from "../core/context-types.js";
import type { CfgCtx, FunctionSpec } from "./function-spec.js";
import { rc } from "./values.js";
import { BRANCH_ROUTE, FAILURE_ROUTE, ONREPLY_ROUTE, REQUEST_ROUTE, TM_ONREPLY_ROUTE } from "./route-types.js";

/** tm's t_on_reply / t_on_failure: where a transaction's routes may be armed. */
const T_ON = REQUEST_ROUTE | FAILURE_ROUTE | TM_ONREPLY_ROUTE | BRANCH_ROUTE;

const XLOG_LEVELS = new Set<string>(["L_ALERT", "L_BUG", "L_CRIT", "L_ERR", "L_WARN", "L_NOTICE", "L_INFO", "L_DBG"]);

/** Kamailio's xlog text usually ends in "\n"; a log line has its own end. */
function logText(text: string): string {
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

/** xinfo("…"), xerr("…"): xlog at a fixed level. */
/** sl_send_reply, send_reply, t_reply(code, reason): the same arguments, a different way to answer. */
function replyFn(module: string, routes: number, send: (ctx: CfgCtx, code: number, reason: string) => boolean): FunctionSpec {
  return {
    module,
    routes,
    args: ["i", "s"],
    build: (a) => {
      const code = a.int(0);
      const reason = a.str(1);
      return (ctx) => rc(send(ctx, code(ctx), reason(ctx)));
    },
  };
}

/** jansson_set / jansson_append(type, path, value, dst): one shape, one ctx.jansson method each. */
function janssonWrite(op: "set" | "append"): FunctionSpec {
  return {
    module: "jansson",
    args: ["s", "s", "s", "pv"],
    build: (a) => {
      const [type, path, value] = [a.str(0), a.str(1), a.str(2)];
      const dst = a.name(3);
      return (ctx) => rc(ctx.jansson[op](type(ctx), path(ctx), value(ctx), dst));
    },
  };
}

/** json_get_field / json_get_string(json, field, dst). */
function jsonGet(op: "getField" | "getString"): FunctionSpec {
  return {
    module: "json",
    args: ["s", "s", "pv"],
    build: (a) => {
      const [json, field] = [a.str(0), a.str(1)];
      const dst = a.name(2);
      return (ctx) => rc(ctx.json[op](json(ctx), field(ctx), dst));
    },
  };
}

function xlogAt(level: XlogLevel): FunctionSpec {
  return {
    module: "xlog",
    args: ["s"],
    build: (a) => {
      const text = logText(a.template(0));
      return (ctx) => {
        ctx.xlog(level, text);
        return 1;
      };
    },
  };
}

/** A textops function of one string argument. */
function textFn(op: (ctx: CfgCtx, text: string) => number): FunctionSpec {
  return {
    module: "textops",
    args: ["s"],
    build: (a) => {
      const text = a.str(0);
      return (ctx) => op(ctx, text(ctx));
    },
  };
}

/**
 * setflag(n), resetflag(n), isflagset(n): core, n a literal 0..31 (or a #!define'd one);
 * setbflag(n [, 0]) and the like: kex, n may be a pseudo-variable, only branch 0 is evsip's.
 */
function flagFn(op: "set" | "reset" | "is", branch: boolean): FunctionSpec {
  return {
    module: branch ? "kex" : "core",
    args: branch ? ["i", "i"] : ["i"],
    min: 1,
    build: (a) => {
      const n = a.flag(0, branch);
      if (a.count === 2 && a.constant(1) !== "0") a.refuse(1, "evsip keeps the flags of branch 0 only (no parallel forking)");
      if (branch) {
        if (op === "set") return (ctx) => rc(ctx.setBranchFlag(n(ctx)));
        if (op === "reset") return (ctx) => rc(ctx.resetBranchFlag(n(ctx)));
        return (ctx) => rc(ctx.isBranchFlagSet(n(ctx)));
      }
      if (op === "set") return (ctx) => rc(ctx.setFlag(n(ctx)));
      if (op === "reset") return (ctx) => rc(ctx.resetFlag(n(ctx)));
      return (ctx) => rc(ctx.isFlagSet(n(ctx)));
    },
  };
}

export const CORE_FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  setflag: flagFn("set", false),
  resetflag: flagFn("reset", false),
  isflagset: flagFn("is", false),
  setbflag: flagFn("set", true),
  resetbflag: flagFn("reset", true),
  isbflagset: flagFn("is", true),
  sl_send_reply: replyFn("sl", REQUEST_ROUTE, (ctx, code, reason) => ctx.sl.sendReply(code, reason)),
  // sl's send_reply: statefully once the request has a transaction, else statelessly.
  send_reply: replyFn("sl", REQUEST_ROUTE | ONREPLY_ROUTE | FAILURE_ROUTE, (ctx, code, reason) =>
    ctx.tm.id() ? ctx.tm.reply(code, reason) : ctx.sl.sendReply(code, reason),
  ),
  t_relay: {
    module: "tm",
    routes: REQUEST_ROUTE | FAILURE_ROUTE,
    args: [],
    build: () => (ctx) => rc(ctx.tm.relay()),
  },
  t_newtran: { module: "tm", routes: REQUEST_ROUTE, args: [], build: () => (ctx) => rc(ctx.tm.newTran()) },
  t_reply: replyFn("tm", REQUEST_ROUTE | ONREPLY_ROUTE | FAILURE_ROUTE, (ctx, code, reason) => ctx.tm.reply(code, reason)),
  t_on_reply: {
    module: "tm",
    routes: T_ON,
    args: ["route"],
    build: (a) => {
      const route = a.name(0);
      return (ctx) => {
        ctx.tm.onReply(route);
        return 1;
      };
    },
  },
  t_on_failure: {
    module: "tm",
    routes: T_ON,
    args: ["route"],
    build: (a) => {
      const route = a.name(0);
      return (ctx) => {
        ctx.tm.onFailure(route);
        return 1;
      };
    },
  },
  t_suspend: { module: "tm", args: [], build: () => (ctx) => rc(ctx.tm.suspend() !== undefined) },
  // Kamailio's tm allows it where t_on_reply and t_on_failure may be used (not in core's onreply_route).
  t_is_canceled: { module: "tm", routes: T_ON, args: [], build: () => (ctx) => rc(ctx.tm.isCancelled()) },
  t_continue: {
    module: "tm",
    args: ["i", "i", "route"],
    build: (a) => {
      const index = a.int(0);
      const label = a.int(1);
      const route = a.name(2);
      return (ctx) => rc(ctx.tm.continue(index(ctx), label(ctx), route));
    },
  },
  // evsip's transaction layer absorbs retransmissions and matching CANCELs before any route runs,
  // so in a route there is never a transaction to find: both answer false, as Kamailio does for a
  // new request.
  t_check_trans: { module: "tm", routes: REQUEST_ROUTE | ONREPLY_ROUTE | BRANCH_ROUTE, args: [], build: () => () => -1 },
  t_precheck_trans: { module: "tmx", routes: REQUEST_ROUTE, args: [], build: () => () => -1 },
  record_route: {
    module: "rr",
    routes: REQUEST_ROUTE | BRANCH_ROUTE | FAILURE_ROUTE,
    args: [],
    build: () => (ctx) => rc(ctx.rr.recordRoute()),
  },
  loose_route: { module: "rr", routes: REQUEST_ROUTE, args: [], build: () => (ctx) => rc(ctx.rr.looseRoute()) },
  is_direction: {
    module: "rr",
    routes: REQUEST_ROUTE,
    args: ["s"],
    build: (a) => {
      const dir = a.str(0);
      return (ctx) => {
        const d = dir(ctx);
        return rc((d === "downstream" || d === "upstream") && ctx.rr.isDirection(d));
      };
    },
  },
  mf_process_maxfwd_header: {
    module: "maxfwd",
    routes: REQUEST_ROUTE,
    args: ["i"],
    build: (a) => {
      const limit = a.int(0);
      return (ctx) => rc(ctx.maxfwd.process(limit(ctx)));
    },
  },
  has_totag: { module: "siputils", args: [], build: () => (ctx) => rc(ctx.hasToTag()) },
  is_method: {
    module: "textops",
    args: ["s"],
    build: (a) => {
      // "INVITE|BYE": any of them; a literal list is split once, here.
      const fixed = a.constant(0)?.split("|");
      if (fixed?.length === 1) {
        const [m] = fixed as [string];
        return (ctx) => rc(ctx.isMethod(m));
      }
      if (fixed) return (ctx) => rc(ctx.isMethod(...fixed));
      const methods = a.str(0);
      return (ctx) => rc(ctx.isMethod(...methods(ctx).split("|")));
    },
  },
  // textops header edits: append_hf/remove_hf go on the message passed on (the request relayed,
  // the reply let through), append_to_reply on the replies evsip sends itself.
  append_hf: textFn((ctx, text) => rc(ctx.appendHeader(text))),
  remove_hf: textFn((ctx, name) => rc(ctx.removeHeader(name) > 0)),
  is_present_hf: textFn((ctx, name) => rc(ctx.msg.header(name) !== undefined)),
  append_to_reply: {
    ...textFn((ctx, text) => rc(ctx.appendToReply(text))),
    routes: REQUEST_ROUTE | FAILURE_ROUTE | BRANCH_ROUTE,
  },
  xlog: {
    module: "xlog",
    args: ["s", "s"],
    min: 1,
    build: (a) => {
      if (a.count === 1) {
        const text = logText(a.template(0));
        return (ctx) => {
          ctx.xlog("L_INFO", text);
          return 1;
        };
      }
      const level = a.name(0);
      const text = logText(a.template(1));
      const known = XLOG_LEVELS.has(level) ? level : "L_INFO";
      return (ctx) => {
        ctx.xlog(known, text);
        return 1;
      };
    },
  },
  xdbg: xlogAt("L_DBG"),
  xinfo: xlogAt("L_INFO"),
  xnotice: xlogAt("L_NOTICE"),
  xwarn: xlogAt("L_WARN"),
  xerr: xlogAt("L_ERR"),
  jansson_get: {
    module: "jansson",
    args: ["s", "s", "pv"],
    build: (a) => {
      const path = a.str(0);
      const json = a.str(1);
      const dst = a.name(2);
      return (ctx) => rc(ctx.jansson.get(path(ctx), json(ctx), dst));
    },
  },
  jansson_set: janssonWrite("set"),
  jansson_append: janssonWrite("append"),
  json_get_field: jsonGet("getField"),
  json_get_string: jsonGet("getString"),
  // A compiled cfg route never yields to the event loop, so nothing else runs between lock() and
  // unlock(): the section is atomic already, and these only keep the script's shape.
  lock: { module: "cfgutils", args: ["s"], build: () => () => 1 },
  unlock: { module: "cfgutils", args: ["s"], build: () => () => 1 },
  forward: {
    module: "core",
    args: ["s"],
    min: 0,
    build: (a) => {
      if (a.count === 0) return (ctx) => rc(ctx.forward());
      const target = a.str(0);
      return (ctx) => rc(ctx.forward(target(ctx)));
    },
  },
};
