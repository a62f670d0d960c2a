// The core pseudo-variables (Kamailio core and pv module spellings): message fields, addresses,
// $var (per script run) and $shv (server-wide). Writable ones change what forward/relay send.
import { ownCopy } from "../common/own-copy.js";
import { EvsipError } from "../errors.js";
import { namesHost, parseUri, rawLines } from "../sip/index.js";
import type { NameAddr } from "../sip/types.js";
import { SIP_DEFAULT_PORT, SIPS_DEFAULT_PORT } from "../transport/reply-target.js";
import type { RouteContext } from "./context.js";
import { pickIndexed, type PvClass, type PvRegistry, type PvValue } from "./pv-registry.js";
import { registerListPvs } from "./pvs-lists.js";
import { displayAsWritten } from "./tr/tr-sip.js";
import { registerMessagePvs } from "./pvs-message.js";
import { registerTimePvs } from "./pvs-time.js";
import { setUriHost, setUriPort, setUriUser } from "./uri-edit.js";

function ro(get: (ctx: RouteContext, arg: string | undefined) => PvValue): PvClass<RouteContext> {
  return { get };
}

function nameAddrPvs(reg: PvRegistry<RouteContext>, prefix: "f" | "t", pick: (ctx: RouteContext) => NameAddr): void {
  const fields: ReadonlyArray<[string, (n: NameAddr) => PvValue]> = [
    ["u", (n) => n.uri.raw],
    ["U", (n) => n.uri.user ?? null],
    ["d", (n) => n.uri.host],
    // As Kamailio: the display name as written, quotes kept.
    ["n", (n) => (n.displayName === undefined ? null : displayAsWritten(n, true))],
    ["t", (n) => n.tag ?? null],
  ];
  for (const [suffix, get] of fields)
    reg.register(
      `${prefix}${suffix}`,
      ro((c) => get(pick(c))),
    );
}

/**
 * A URI written to $ru, $rU, $rd, $rp or $du, refused unless it parses: the Request-URI goes into
 * the request line as written, so text from an app (an evapi or JSON-RPC answer, say) could
 * otherwise break the line and add header lines. Kamailio 5.6 takes it and sends it as written
 * (checked: "\r\nX-Injected: 1" in $ru reached the next hop as a header line).
 */
function checkedUri(pv: string, uri: string | undefined, before?: string): string {
  if (uri === undefined) throw new EvsipError("ERR_SIP_BAD_URI", `${pv}: ${JSON.stringify(before)} has no such part`);
  if (parseUri(uri) === undefined)
    throw new EvsipError("ERR_SIP_BAD_URI", `${pv}: not a sip:, sips:, tel: or urn: URI: ${JSON.stringify(uri)}`);
  return uri;
}

/** $du says where to send: only a sip: or sips: URI names a host to send to. */
function checkedDestination(uri: string): string {
  if (!namesHost(parseUri(uri))) throw new EvsipError("ERR_SIP_BAD_URI", `$du: not a sip: or sips: URI: ${JSON.stringify(uri)}`);
  return uri;
}

function ruriPart(c: RouteContext, part: "user" | "host" | "port"): PvValue {
  const u = parseUri(c.ruri);
  if (!u) return null;
  if (part === "user") return u.user ?? null;
  if (part === "host") return u.host;
  return u.port ?? (u.scheme === "sips" ? SIPS_DEFAULT_PORT : SIP_DEFAULT_PORT);
}

/** Registers every core PV on `reg`; `shv` is the server-wide store. */
export function registerCorePvs(reg: PvRegistry<RouteContext>, shv: Map<string, PvValue>): void {
  // Read-only message and address fields.
  const readOnly: ReadonlyArray<[string, (c: RouteContext, arg: string | undefined) => PvValue]> = [
    ["rm", (c) => c.msg.method],
    ["ci", (c) => c.msg.callId],
    ["cs", (c) => c.msg.cseq.seq],
    ["si", (c) => c.src.remoteAddr],
    ["sp", (c) => c.src.remotePort],
    ["Ri", (c) => c.src.localAddr],
    ["Rp", (c) => c.src.localPort],
    ["pr", (c) => c.src.proto],
    ["proto", (c) => c.src.proto],
    ["ua", (c) => c.msg.userAgent ?? null],
    ["rs", (c) => (c.reply ?? c.msg).status || null],
    ["rr", (c) => (c.reply ?? c.msg).reason || null],
    // Kamailio counts header fields (lines), not the values of a comma list.
    ["hdrc", (c, name) => (name ? rawLines(c.msg, name).length : 0)],
    ["mb", (c) => c.msg.buf.toString("latin1")],
    ["rb", (c) => c.msg.body.toString("utf8")],
    ["ml", (c) => c.msg.buf.length],
  ];
  for (const [name, get] of readOnly) reg.register(name, ro(get));
  reg.register("hdr", {
    get: (c, name) => (name ? (c.msg.header(name) ?? null) : null),
    getAt: (c, name, i) => (name ? pickIndexed(rawLines(c.msg, name), i) : null),
    checkArg: (name) => (name ? undefined : "needs a header name"),
  });
  reg.register("ru", {
    get: (c) => c.ruri,
    set: (c, _a, v) => {
      c.newUri = v === null ? undefined : checkedUri("$ru", String(v));
    },
  });
  reg.register("rU", {
    get: (c) => ruriPart(c, "user"),
    set: (c, _a, v) => (c.newUri = checkedUri("$rU", setUriUser(c.ruri, v === null ? "" : String(v)))),
  });
  reg.register("rd", {
    get: (c) => ruriPart(c, "host"),
    set: (c, _a, v) => (c.newUri = checkedUri("$rd", setUriHost(c.ruri, String(v)), c.ruri)),
  });
  reg.register("rp", {
    get: (c) => ruriPart(c, "port"),
    set: (c, _a, v) => (c.newUri = checkedUri("$rp", setUriPort(c.ruri, v ?? 0), c.ruri)),
  });
  reg.register("du", {
    get: (c) => c.dstUri ?? null,
    set: (c, _a, v) => {
      c.dstUri = v === null || v === "" ? undefined : checkedDestination(String(v));
    },
  });
  // $mf, $bf: the message and branch flags as one unsigned integer each (Kamailio's pv module).
  for (const [name, word] of [
    ["mf", "msg"],
    ["bf", "branch"],
  ] as const) {
    reg.register(name, {
      get: (c) => c.flagState?.[word] ?? 0,
      set: (c, _a, v) => {
        const n = typeof v === "number" ? v : Number.parseInt(v ?? "0", 10);
        (c.flagState ??= { msg: 0, branch: 0 })[word] = Number.isNaN(n) ? 0 : n >>> 0;
      },
    });
  }
  // $rc, $retcode: what the last function or route() a cfg route called returned.
  for (const name of ["rc", "retcode"])
    reg.register(
      name,
      ro((c) => c.retcode),
    );
  registerTimePvs(reg);
  registerMessagePvs(reg);
  registerListPvs(reg);
  nameAddrPvs(reg, "f", (c) => c.msg.from);
  nameAddrPvs(reg, "t", (c) => c.msg.to);
  reg.register("var", {
    get: (c, name) => c.vars?.get(name ?? "") ?? null,
    set: (c, name, v) => {
      (c.vars ??= new Map()).set(name ?? "", v);
    },
  });
  reg.register("shv", {
    get: (_c, name) => shv.get(name ?? "") ?? null,
    set: (_c, name, v) => {
      // Process-wide and kept until changed: an own copy, not a slice holding a message's head.
      shv.set(ownCopy(name ?? ""), typeof v === "string" ? ownCopy(v) : v);
    },
  });
}
