// The SIP transformations of Kamailio's pv module: {uri.*} on a URI, {param.value,name} on a
// `;`-separated parameter list, {nameaddr.*} and {tobody.*} on a From/To-style value. A value that
// does not parse fails (null); a part that is absent is "", as Kamailio's _tr_empty.
import { parseNameAddr, parseUri } from "../../sip/index.js";
import { quotedEnd } from "../../sip/params.js";
import type { NameAddr, SipUri } from "../../sip/types.js";
import type { PvValue } from "../pv-registry.js";
import type { TrDef } from "./tr-types.js";

function onUri(fn: (u: SipUri, p: readonly string[]) => PvValue, min = 0): TrDef {
  return { min, max: min, apply: (v, p) => mapParsed(parseUri(String(v).trim()), (u) => fn(u, p)) };
}

function onNameAddr(fn: (n: NameAddr) => PvValue): TrDef {
  return { min: 0, max: 0, apply: (v) => mapParsed(parseNameAddr(String(v).trim()), fn) };
}

function mapParsed<T>(x: T | undefined, fn: (x: T) => PvValue): PvValue {
  return x === undefined ? null : fn(x);
}

/** A parameter's value by case-insensitive name in "a=1;b;c=3"; "" when absent or valueless. */
function paramValue(list: string, name: string, sep: string): string {
  const want = name.trim().toLowerCase();
  for (const part of list.split(sep)) {
    const eq = part.indexOf("=");
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (key === want) return eq < 0 ? "" : part.slice(eq + 1).trim();
  }
  return "";
}

/**
 * The text before '<' as Kamailio's parse_nameaddr keeps it: quotes and the space before '<'
 * included (`"Alice" ` and `Bob `); "" without a display name.
 */
export function displayAsWritten(n: NameAddr, trim = false): string {
  if (n.displayName === undefined) return "";
  const raw = n.raw.trimStart();
  const from = raw.startsWith('"') ? quotedEnd(raw, 0) : 0;
  const text = raw.slice(0, raw.indexOf("<", from));
  return trim ? text.trim() : text;
}

export const SIP_TRS: ReadonlyArray<[string, TrDef]> = [
  ["uri.user", onUri((u) => u.user ?? "")],
  ["uri.host", onUri((u) => u.host)],
  ["uri.port", onUri((u) => u.port ?? "")],
  ["uri.param", onUri((u, p) => u.params.get((p[0] ?? "").toLowerCase()) ?? "", 1)],
  ["param.value", { min: 1, max: 2, apply: (v, p) => paramValue(String(v), p[0] ?? "", p[1] || ";") }],
  ["nameaddr.uri", onNameAddr((n) => n.uri.raw)],
  ["nameaddr.name", onNameAddr(displayAsWritten)],
  ["tobody.user", onNameAddr((n) => n.uri.user ?? "")],
  ["tobody.tag", onNameAddr((n) => n.tag ?? "")],
];
