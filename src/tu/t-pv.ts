// $T(...) (Kamailio tmx) and tmx's $T_reply_code, $T_branch_idx, $T_req(pv), $T_rpl(pv): the
// identifiers and outcome of the current route run's transaction, and a pseudo-variable read on
// the transaction's request or on the reply being handled.
import type { RouteContext } from "../core/context.js";
import type { PvRegistry, PvValue } from "../core/pv-registry.js";
import type { SipMessageLike } from "../sip/types.js";
import { txScript } from "./script-state.js";

function replyCode(ctx: RouteContext): PvValue {
  const st = ctx.t;
  if (ctx.reply) return ctx.reply.status;
  if (!st) return null;
  return txScript(st).failure?.status ?? (st.lastStatus || null);
}

function branchIndex(ctx: RouteContext): number {
  return ctx.t ? Math.max(0, ctx.t.branches.length - 1) : 0;
}

export function registerTPv(pvs: PvRegistry<RouteContext>): void {
  pvs.register("T", {
    get: (ctx, arg) => {
      const st = ctx.t;
      if (!st) return null;
      switch (arg) {
        case "id_index":
          return st.index;
        case "id_label":
          return st.label;
        case "reply_code":
          return txScript(st).failure?.status ?? (st.lastStatus || null);
        case "reply_reason":
          return txScript(st).failure?.reason ?? null;
        case "branch_index":
          return branchIndex(ctx);
        default:
          return null;
      }
    },
  });
  // tmx: 0 when nothing was replied yet, as Kamailio.
  pvs.register("T_reply_code", { get: (ctx) => replyCode(ctx) ?? 0 });
  pvs.register("T_branch_idx", { get: branchIndex });
  /** Reads `spec` on another message of this transaction, through a context over that message. */
  const readOn = (ctx: RouteContext, msg: SipMessageLike | undefined, spec: string | undefined): PvValue => {
    if (!msg || !spec) return null;
    const other = ctx.engine.newContext(ctx.kind, msg, ctx.t?.src ?? ctx.src);
    other.t = ctx.t;
    return pvs.compile(spec).get(other);
  };
  const checkInner = (spec: string | undefined): string | undefined => {
    try {
      if (!spec) return "needs a pseudo-variable";
      pvs.compile(spec);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  };
  pvs.register("T_req", { innerIsSpec: true, checkArg: checkInner, get: (ctx, spec) => readOn(ctx, ctx.t?.msg, spec) });
  pvs.register("T_rpl", { innerIsSpec: true, checkArg: checkInner, get: (ctx, spec) => readOn(ctx, ctx.reply, spec) });
}
