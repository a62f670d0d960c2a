// The core pseudo-variables (Kamailio core and pv module spellings): message fields, addresses,
// $var (per script run) and $shv (server-wide). Writable ones change what forward/relay send.
import { parseUri } from "../sip/index.js";
import type { NameAddr } from "../sip/types.js";
import type { RouteContext } from "./context.js";
import type { PvClass, PvRegistry, PvValue } from "./pv-registry.js";
import { setUriHost, setUriPort, setUriUser } from "./uri-edit.js";

function ro(get: (ctx: RouteContext, arg: string | undefined) => PvValue): PvClass<RouteContext> {
  return { get };
}

function nameAddrPvs(reg: PvRegistry<RouteContext>, prefix: "f" | "t", pick: (ctx: RouteContext) => NameAddr): void {
  reg.register(
    `${prefix}u`,
    ro((c) => pick(c).uri.raw),
  );
  reg.register(
    `${prefix}U`,
    ro((c) => pick(c).uri.user ?? null),
  );
  reg.register(
    `${prefix}d`,
    ro((c) => pick(c).uri.host),
  );
  reg.register(
    `${prefix}n`,
    ro((c) => pick(c).displayName ?? null),
  );
  reg.register(
    `${prefix}t`,
    ro((c) => pick(c).tag ?? null),
  );
}

function ruriPart(c: RouteContext, part: "user" | "host" | "port"): PvValue {
  const u = parseUri(c.ruri);
  if (!u) return null;
  if (part === "user") return u.user ?? null;
  if (part === "host") return u.host;
  return u.port ?? (u.scheme === "sips" ? 5061 : 5060);
}

/** Registers every core PV on `reg`; `shv` is the server-wide store. */
export function registerCorePvs(reg: PvRegistry<RouteContext>, shv: Map<string, PvValue>): void {
  reg.register(
    "rm",
    ro((c) => c.msg.method),
  );
  reg.register("ru", {
    get: (c) => c.ruri,
    set: (c, _a, v) => {
      c.newUri = v === null ? undefined : String(v);
    },
  });
  reg.register("rU", {
    get: (c) => ruriPart(c, "user"),
    set: (c, _a, v) => (c.newUri = setUriUser(c.ruri, v === null ? "" : String(v))),
  });
  reg.register("rd", { get: (c) => ruriPart(c, "host"), set: (c, _a, v) => (c.newUri = setUriHost(c.ruri, String(v))) });
  reg.register("rp", { get: (c) => ruriPart(c, "port"), set: (c, _a, v) => (c.newUri = setUriPort(c.ruri, v ?? 0)) });
  reg.register("du", {
    get: (c) => c.dstUri ?? null,
    set: (c, _a, v) => {
      c.dstUri = v === null || v === "" ? undefined : String(v);
    },
  });
  nameAddrPvs(reg, "f", (c) => c.msg.from);
  nameAddrPvs(reg, "t", (c) => c.msg.to);
  reg.register(
    "ci",
    ro((c) => c.msg.callId),
  );
  reg.register(
    "cs",
    ro((c) => c.msg.cseq.seq),
  );
  reg.register(
    "si",
    ro((c) => c.src.remoteAddr),
  );
  reg.register(
    "sp",
    ro((c) => c.src.remotePort),
  );
  reg.register(
    "Ri",
    ro((c) => c.src.localAddr),
  );
  reg.register(
    "Rp",
    ro((c) => c.src.localPort),
  );
  reg.register(
    "pr",
    ro((c) => c.src.proto),
  );
  reg.register(
    "proto",
    ro((c) => c.src.proto),
  );
  reg.register(
    "ua",
    ro((c) => c.msg.userAgent ?? null),
  );
  reg.register(
    "rs",
    ro((c) => (c.reply ?? c.msg).status || null),
  );
  reg.register(
    "rr",
    ro((c) => (c.reply ?? c.msg).reason || null),
  );
  reg.register(
    "hdr",
    ro((c, name) => (name ? (c.msg.header(name) ?? null) : null)),
  );
  reg.register(
    "hdrc",
    ro((c, name) => (name ? c.msg.headerValues(name).length : 0)),
  );
  reg.register(
    "mb",
    ro((c) => c.msg.buf.toString("latin1")),
  );
  reg.register(
    "rb",
    ro((c) => c.msg.body.toString("utf8")),
  );
  reg.register(
    "ml",
    ro((c) => c.msg.buf.length),
  );
  reg.register("var", {
    get: (c, name) => c.vars?.get(name ?? "") ?? null,
    set: (c, name, v) => {
      (c.vars ??= new Map()).set(name ?? "", v);
    },
  });
  reg.register("shv", {
    get: (_c, name) => shv.get(name ?? "") ?? null,
    set: (_c, name, v) => {
      shv.set(name ?? "", v);
    },
  });
}
