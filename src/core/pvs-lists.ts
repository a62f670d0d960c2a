// $avp(name) and $xavp(root=>field): Kamailio's list semantics are in avp-store.ts.
import { AvpStore, avpKey, avpSet, parseXavpName, xavpGet, xavpSet, xavpValues } from "./avp-store.js";
import type { RouteContext } from "./context.js";
import { pickIndexed, type PvRegistry } from "./pv-registry.js";

const store = (c: RouteContext): AvpStore => (c.avps ??= new AvpStore());

export function registerListPvs(reg: PvRegistry<RouteContext>): void {
  reg.register("avp", {
    get: (c, name) => c.avps?.avps.get(avpKey(name ?? ""))?.[0] ?? null,
    // Kamailio joins `[*]` of an AVP with ", " (a header's with ",").
    getAt: (c, name, i) => pickIndexed(c.avps?.avps.get(avpKey(name ?? "")) ?? [], i, ", "),
    set: (c, name, v) => avpSet(store(c), name ?? "", v, false),
    // Kamailio: `$(avp(x)[*]) = v` clears the list first; another index still adds on top.
    setAt: (c, name, i, v) => avpSet(store(c), name ?? "", v, i === "*"),
    checkArg: (name) => (name ? undefined : "needs a name"),
  });
  reg.register("xavp", {
    get: (c, name) => {
      const n = parseXavpName(name ?? "");
      return n && c.avps ? xavpGet(c.avps, n) : null;
    },
    getAt: (c, name, i) => {
      const n = parseXavpName(name ?? "");
      return n && c.avps ? pickIndexed(xavpValues(c.avps, n), i, ", ") : null;
    },
    set: (c, name, v) => {
      const n = parseXavpName(name ?? "");
      if (n) xavpSet(store(c), n, v);
    },
    checkArg: (name) => (parseXavpName(name ?? "") ? undefined : "expects root, root[i], root=>field or root[i]=>field[j]"),
  });
}
