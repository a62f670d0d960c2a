// One Via value (RFC 3261 §20.42, §18.2.1 received, RFC 3581 rport): `SIP / 2.0 / UDP host:port;params`.
// LWS is allowed around the slashes (RFC 4475 §3.1.1.1), the sent-by host may be an IPv6
// reference, and a malformed value yields undefined so validate() can answer with a code.
import type { Via } from "./types.js";
import { parseParams, skipWs } from "./params.js";
import { knownSpelling } from "./known-spelling.js";
import { isTokenChar } from "./cseq.js";

function readToken(text: string, i: number): number {
  while (i < text.length && isTokenChar(text.charCodeAt(i))) i++;
  return i;
}

function isHostChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e;
}

/** "SIP" in any case at text[s, s+3). */
function isSip(text: string, s: number): boolean {
  return (
    (text.charCodeAt(s) | 0x20) === 0x73 && (text.charCodeAt(s + 1) | 0x20) === 0x69 && (text.charCodeAt(s + 2) | 0x20) === 0x70
  );
}

const TRANSPORTS: readonly string[] = ["UDP", "TCP", "TLS", "WS", "WSS", "SCTP"];

/** The upper-cased transport in text[s, e): a constant for the usual ones when written in upper case. */
function transportOf(text: string, s: number, e: number): string {
  return knownSpelling(text, s, e, TRANSPORTS) ?? text.slice(s, e).toUpperCase();
}

/**
 * Parses one Via value (split comma lists first); undefined when malformed.
 * @example parseVia("SIP/2.0/UDP [2001:db8::9]:5070;branch=z9hG4bK1;rport")?.rport // null
 */
export function parseVia(value: string): Via | undefined {
  const text = value;
  const start = skipWs(text, 0);
  // protocol-name / protocol-version / transport, each a token, LWS allowed around '/'; nearly
  // every Via spells "SIP/2.0/" and its transport with no LWS, which one comparison settles
  let ts = start + 8;
  let i = text.startsWith("SIP/2.0/", start) ? readToken(text, ts) : ts;
  if (i === ts) {
    i = start;
    for (let k = 0; k < 3; k++) {
      if (k > 0) {
        i = skipWs(text, i);
        if (text.charCodeAt(i) !== 0x2f) return undefined;
        i = skipWs(text, i + 1);
      }
      const s = i;
      i = readToken(text, i);
      if (k === 0 && !(i - s === 3 && isSip(text, s))) return undefined;
      if (k === 1 && !(i - s === 3 && text.startsWith("2.0", s))) return undefined;
      if (i === s) return undefined;
      ts = s;
    }
  }
  const transport = transportOf(text, ts, i);
  const ws = i;
  i = skipWs(text, i);
  if (i === ws) return undefined;
  const hs = i;
  if (text.charCodeAt(i) === 0x5b) {
    const close = text.indexOf("]", i);
    if (close < 0) return undefined;
    for (let j = i + 1; j < close; j++) {
      const c = text.charCodeAt(j);
      if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) || c === 0x3a || c === 0x2e)) {
        return undefined;
      }
    }
    i = close + 1;
  } else {
    while (i < text.length && isHostChar(text.charCodeAt(i))) i++;
  }
  if (i === hs) return undefined;
  const host = text.slice(hs, i);
  let port: number | undefined;
  i = skipWs(text, i);
  if (text.charCodeAt(i) === 0x3a) {
    i = skipWs(text, i + 1);
    const ps = i;
    let p = 0;
    while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39 && i - ps < 6) {
      p = p * 10 + text.charCodeAt(i) - 0x30;
      i++;
    }
    if (i === ps || p > 65535) return undefined;
    port = p;
  }
  const params = new Map<string, string | null>();
  if (parseParams(text, i, params, false) !== text.length) return undefined;
  let rport: number | null | undefined;
  if (params.has("rport")) {
    const rv = params.get("rport");
    if (rv === null || rv === undefined) rport = null;
    else {
      let p = 0;
      for (let k = 0; k < rv.length; k++) {
        const d = rv.charCodeAt(k) - 0x30;
        if (d < 0 || d > 9 || k >= 5) return undefined;
        p = p * 10 + d;
      }
      if (p > 65535) return undefined;
      rport = p;
    }
  }
  const branch = params.get("branch");
  const received = params.get("received");
  return {
    transport,
    host,
    port,
    branch: branch ?? undefined,
    received: received ?? undefined,
    rport,
    params,
    raw: value.trim(),
  };
}
