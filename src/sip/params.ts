// Parameter lists (`;name=value;flag`) as used by URIs (RFC 3261 §19.1.1, no whitespace) and by
// header values (§7.3.1 / §25.1 generic-param, SEMI and EQUAL allow LWS). Names are lower-cased,
// values kept as written (a quoted-string keeps its quotes); a valueless parameter maps to null.
import { knownSpelling } from "./known-spelling.js";

const SP = 0x20;
const HT = 0x09;

/** A space or a tab (LWS within a line). */
export function isWs(c: number | undefined): boolean {
  return c === SP || c === HT;
}

/** Skips spaces and tabs from i. */
export function skipWs(text: string, i: number): number {
  while (i < text.length && isWs(text.charCodeAt(i))) i++;
  return i;
}

/** Characters that may not appear unquoted in a parameter name or value. */
function isParamStop(c: number, inUri: boolean): boolean {
  if (c === 0x3b || c === 0x3d || c === 0x2c || c === 0x22 || c === 0x3c || c === 0x3e) return true; // ; = , " < >
  if (c <= SP || c === 0x7f) return true;
  return inUri && (c === 0x3f || c === 0x26); // ? &
}

/** Parameter names nearly every message carries (Via, From/To, Route and URI parameters). */
const COMMON_NAMES: readonly string[] = ["branch", "tag", "lr", "rport", "received", "transport", "user", "maddr", "ttl"];

/** The lower-cased name in text[s, e): one of COMMON_NAMES when spelled so, else a lower-cased slice. */
function paramName(text: string, s: number, e: number): string {
  return knownSpelling(text, s, e, COMMON_NAMES) ?? text.slice(s, e).toLowerCase();
}

/** End index of a quoted-string starting at i (the opening quote), or -1 when unterminated. */
export function quotedEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x5c) j++;
    else if (c === 0x22) return j + 1;
  }
  return -1;
}

/** Removes the quotes and backslash escapes of a quoted-string. */
export function unquote(text: string): string {
  let out = "";
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i];
    if (c === "\\" && i + 1 < text.length - 1) {
      i++;
      out += text[i];
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * Parses `;name[=value]` pairs from `start` into `out`. `inUri`: URI grammar (no whitespace, stops
 * at `?`). Returns the index where parsing stopped (end of text, or `?` in a URI), or -1 on error.
 */
export function parseParams(text: string, start: number, out: Map<string, string | null>, inUri: boolean): number {
  let i = start;
  const n = text.length;
  for (;;) {
    if (!inUri) i = skipWs(text, i);
    if (i >= n) return i;
    const c = text.charCodeAt(i);
    if (inUri && c === 0x3f) return i;
    if (c !== 0x3b) return -1;
    i++;
    if (!inUri) i = skipWs(text, i);
    const ns = i;
    while (i < n && !isParamStop(text.charCodeAt(i), inUri)) i++;
    if (i === ns) return -1;
    const name = paramName(text, ns, i);
    let j = inUri ? i : skipWs(text, i);
    if (j < n && text.charCodeAt(j) === 0x3d) {
      j++;
      if (!inUri) j = skipWs(text, j);
      const vs = j;
      if (j < n && text.charCodeAt(j) === 0x22 && !inUri) {
        j = quotedEnd(text, j);
        if (j < 0) return -1;
      } else if (j < n && text.charCodeAt(j) === 0x5b) {
        // IPv6 reference as a value (received=[::1], maddr=[::1])
        const close = text.indexOf("]", j);
        if (close < 0) return -1;
        j = close + 1;
      } else {
        while (j < n && !isParamStop(text.charCodeAt(j), inUri)) j++;
      }
      if (j === vs) return -1;
      out.set(name, text.slice(vs, j));
      i = j;
    } else {
      out.set(name, null);
    }
  }
}

/**
 * Splits a header value at commas outside quoted strings and `<…>` (RFC 3261 §7.3.1).
 * Values are trimmed; empty values are dropped.
 */
export function splitList(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let angle = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const e = quotedEnd(text, i);
      if (e < 0) break;
      i = e - 1;
    } else if (c === 0x3c) angle = true;
    else if (c === 0x3e) angle = false;
    else if (c === 0x2c && !angle) {
      const v = text.slice(start, i).trim();
      if (v.length > 0) out.push(v);
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last.length > 0) out.push(last);
  return out;
}

/** Index of the first top-level comma in buf[start, end) (outside quotes and <>), or -1. */
export function firstListComma(buf: Buffer, start: number, end: number): number {
  let angle = false;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === 0x22) {
      for (i++; i < end; i++) {
        const q = buf[i];
        if (q === 0x5c) i++;
        else if (q === 0x22) break;
      }
    } else if (c === 0x3c) angle = true;
    else if (c === 0x3e) angle = false;
    else if (c === 0x2c && !angle) return i;
  }
  return -1;
}
