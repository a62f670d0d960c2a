// URI parser for sip:, sips: (RFC 3261 §19.1, §25.1), tel: (RFC 3966) and urn: (RFC 8141; an
// emergency call is addressed to urn:service:sos, RFC 5031). Returns undefined for anything else so
// the caller can answer 416 or drop. User and parameter values are kept as written (escapes intact,
// like Kamailio's $rU); only scheme and parameter names are lower-cased.
import type { SipUri } from "./types.js";
import { parseParams } from "./params.js";

const EMPTY_HEADERS: ReadonlyMap<string, string> = new Map();
const EMPTY_PARAMS: ReadonlyMap<string, string | null> = new Map();

/** Lower-case scheme of text[0, colon) among sip/sips/tel/urn without allocating; undefined otherwise. */
function schemeOf(text: string, colon: number): SipUri["scheme"] | undefined {
  const a = text.charCodeAt(0) | 0x20;
  const b = text.charCodeAt(1) | 0x20;
  const c = text.charCodeAt(2) | 0x20;
  if (colon === 3) {
    if (a === 0x73 && b === 0x69 && c === 0x70) return "sip";
    if (a === 0x74 && b === 0x65 && c === 0x6c) return "tel";
    if (a === 0x75 && b === 0x72 && c === 0x6e) return "urn";
    return undefined;
  }
  return a === 0x73 && b === 0x69 && c === 0x70 && (text.charCodeAt(3) | 0x20) === 0x73 ? "sips" : undefined;
}

function isHostChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e;
}

function isIpv6Char(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) || c === 0x3a || c === 0x2e;
}

/** True when text[start, end) has no control, space, or delimiter that a user part may not carry. */
function isValidUserinfo(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x3c || c === 0x3e || c === 0x22 || c === 0x40) return false;
    if (c === 0x25) {
      // %HH escapes must be complete
      if (i + 2 >= end || !isHex(text.charCodeAt(i + 1)) || !isHex(text.charCodeAt(i + 2))) return false;
    }
  }
  return true;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** Parses a port of 1–5 digits up to 65535; -1 when invalid. */
function parsePort(text: string, start: number, end: number): number {
  if (end === start || end - start > 5) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v > 65535 ? -1 : v;
}

function parseUriHeaders(text: string, start: number): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const part of text.slice(start).split("&")) {
    const eq = part.indexOf("=");
    if (eq <= 0) return undefined;
    out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

function parseTel(text: string, start: number): SipUri | undefined {
  let end = start;
  while (end < text.length && text.charCodeAt(end) !== 0x3b) end++;
  if (end === start || !isValidUserinfo(text, start, end)) return undefined;
  const params = new Map<string, string | null>();
  if (parseParams(text, end, params, true) !== text.length) return undefined;
  return {
    scheme: "tel",
    user: text.slice(start, end),
    password: undefined,
    host: "",
    port: undefined,
    params,
    headers: EMPTY_HEADERS,
    raw: text,
  };
}

function isAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
}

/** A URN's namespace identifier (RFC 8141 §2): 2 to 32 letters, digits and hyphens, a letter or digit at each end. */
function isValidNid(text: string, start: number, end: number): boolean {
  if (end - start < 2 || end - start > 32) return false;
  if (!isAlnum(text.charCodeAt(start)) || !isAlnum(text.charCodeAt(end - 1))) return false;
  for (let i = start + 1; i < end - 1; i++) {
    const c = text.charCodeAt(i);
    if (!isAlnum(c) && c !== 0x2d) return false;
  }
  return true;
}

/** Characters of a URN's NSS and its ?+ ?= # components (RFC 8141 §2), but ';', which starts SIP parameters. */
const URN_CHARS = new Set([..."-._~!$&'()*+,=:@/?#"].map((ch) => ch.charCodeAt(0)));

/** The NSS and what follows it up to the parameters: pchars, '/' not first, complete %HH escapes. */
function isValidNss(text: string, start: number, end: number): boolean {
  const first = text.charCodeAt(start);
  if (end === start || first === 0x2f || first === 0x3f || first === 0x23) return false; // "/", "?", "#"
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (isAlnum(c) || URN_CHARS.has(c)) continue;
    if (c !== 0x25 || i + 2 >= end || !isHex(text.charCodeAt(i + 1)) || !isHex(text.charCodeAt(i + 2))) return false;
    i += 2;
  }
  return true;
}

/**
 * urn:NID:NSS[;params] (RFC 8141). Split as Kamailio splits it, so that the same script reads the
 * same values: the NID is the user part ($rU "service") and the NSS the host ($rd "sos").
 */
function parseUrn(text: string, start: number): SipUri | undefined {
  const colon = text.indexOf(":", start);
  if (colon < 0 || !isValidNid(text, start, colon)) return undefined;
  let end = colon + 1;
  while (end < text.length && text.charCodeAt(end) !== 0x3b) end++;
  if (!isValidNss(text, colon + 1, end)) return undefined;
  let params = EMPTY_PARAMS;
  if (end < text.length) {
    const p = new Map<string, string | null>();
    if (parseParams(text, end, p, true) !== text.length) return undefined;
    params = p;
  }
  return {
    scheme: "urn",
    user: text.slice(start, colon),
    password: undefined,
    host: text.slice(colon + 1, end),
    port: undefined,
    params,
    headers: EMPTY_HEADERS,
    raw: text,
  };
}

/**
 * Parses a sip:, sips:, tel: or urn: URI. Returns undefined for other schemes or malformed text.
 * @example parseUri("sip:alice@[2001:db8::1]:5060;transport=tcp")?.port // 5060
 */
export function parseUri(text: string): SipUri | undefined {
  const colon = text.indexOf(":");
  if (colon < 3 || colon > 4) return undefined;
  const scheme = schemeOf(text, colon);
  if (scheme === "tel") return parseTel(text, colon + 1);
  if (scheme === "urn") return parseUrn(text, colon + 1);
  if (scheme === undefined) return undefined;
  const n = text.length;
  let i = colon + 1;
  let user: string | undefined;
  let password: string | undefined;
  const at = text.indexOf("@", i);
  if (at >= 0) {
    if (!isValidUserinfo(text, i, at) || at === i) return undefined;
    const pw = text.indexOf(":", i);
    if (pw >= 0 && pw < at) {
      user = text.slice(i, pw);
      password = text.slice(pw + 1, at);
    } else {
      user = text.slice(i, at);
    }
    i = at + 1;
  }
  const hs = i;
  if (i < n && text.charCodeAt(i) === 0x5b) {
    while (i + 1 < n && isIpv6Char(text.charCodeAt(i + 1))) i++;
    if (i + 1 >= n || text.charCodeAt(i + 1) !== 0x5d || i === hs) return undefined;
    i += 2;
  } else {
    while (i < n && isHostChar(text.charCodeAt(i))) i++;
  }
  if (i === hs) return undefined;
  const host = text.slice(hs, i);
  let port: number | undefined;
  if (i < n && text.charCodeAt(i) === 0x3a) {
    const ps = i + 1;
    i = ps;
    while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    const p = parsePort(text, ps, i);
    if (p < 0) return undefined;
    port = p;
  }
  let params = EMPTY_PARAMS;
  if (i < n && text.charCodeAt(i) === 0x3b) {
    const p = new Map<string, string | null>();
    i = parseParams(text, i, p, true);
    if (i < 0) return undefined;
    params = p;
  }
  let headers: ReadonlyMap<string, string> = EMPTY_HEADERS;
  if (i < n) {
    if (text.charCodeAt(i) !== 0x3f) return undefined;
    const h = parseUriHeaders(text, i + 1);
    if (h === undefined) return undefined;
    headers = h;
  }
  return { scheme, user, password, host, port, params, headers, raw: text };
}

/** Whether `uri` is a sip: or sips: URI: the only kinds that name a host to send to, or to be. */
export function namesHost(uri: SipUri | undefined): uri is SipUri {
  return uri !== undefined && (uri.scheme === "sip" || uri.scheme === "sips");
}

/** Renders a SipUri back to text (scheme, userinfo, host, port, params, headers). */
export function formatUri(uri: SipUri): string {
  if (uri.scheme === "tel" || uri.scheme === "urn") {
    let s = uri.scheme === "tel" ? `tel:${uri.user ?? ""}` : `urn:${uri.user ?? ""}:${uri.host}`;
    for (const [k, v] of uri.params) s += v === null ? `;${k}` : `;${k}=${v}`;
    return s;
  }
  let s = `${uri.scheme}:`;
  if (uri.user !== undefined) s += uri.password !== undefined ? `${uri.user}:${uri.password}@` : `${uri.user}@`;
  s += uri.host;
  if (uri.port !== undefined) s += `:${uri.port}`;
  for (const [k, v] of uri.params) s += v === null ? `;${k}` : `;${k}=${v}`;
  let sep = "?";
  for (const [k, v] of uri.headers) {
    s += `${sep}${k}=${v}`;
    sep = "&";
  }
  return s;
}
