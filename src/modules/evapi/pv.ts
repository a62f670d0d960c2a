// `$evapi(srcaddr|srcport|msg|conidx)`: Kamailio's read-only evapi pseudo-variable. $null outside
// evapi event routes, and `msg` is $null outside evapi:message-received. Any other key is an error,
// as in Kamailio (which reports it at cfg parse time).
import { EvsipError } from "../../errors.js";
import type { RouteContext } from "../../core/context.js";
import type { PvClass, PvValue } from "../../core/pv-registry.js";
import { evapiEventOf } from "./event-data.js";

/** The `$evapi(key)` class, registered by the module. */
export const evapiPvClass: PvClass<RouteContext> = {
  get(ctx: RouteContext, arg: string | undefined): PvValue {
    const ev = evapiEventOf(ctx.eventData);
    switch (arg) {
      case "conidx":
        return ev ? ev.conidx : null;
      case "srcaddr":
        return ev ? ev.srcaddr : null;
      case "srcport":
        return ev ? ev.srcport : null;
      case "msg":
        return ev?.msg ?? null;
      default:
        throw new EvsipError("ERR_PV_UNKNOWN", `unknown $evapi key ${JSON.stringify(arg)} (conidx, srcaddr, srcport, msg)`);
    }
  },
};
