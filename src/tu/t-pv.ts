// $T(...) (Kamailio tmx): the identifiers and outcome of the current route run's transaction.
import type { RouteContext } from "../core/context.js";
import type { PvRegistry } from "../core/pv-registry.js";
import { txScript } from "./script-state.js";

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
          return Math.max(0, st.branches.length - 1);
        default:
          return null;
      }
    },
  });
}
