// CSeq (RFC 3261 §8.1.1.5, §20.16): a sequence number below 2**31 and a method token.
// The parser is total: malformed text yields undefined, never an exception.
import type { CSeq } from "./types.js";

/** True for RFC 3261 token characters (§25.1). */
export function isTokenChar(c: number): boolean {
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) return true;
  // - . ! % * _ + ` ' ~
  return (
    c === 0x2d ||
    c === 0x2e ||
    c === 0x21 ||
    c === 0x25 ||
    c === 0x2a ||
    c === 0x5f ||
    c === 0x2b ||
    c === 0x60 ||
    c === 0x27 ||
    c === 0x7e
  );
}

/** True when text is a non-empty token. */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isTokenChar(text.charCodeAt(i))) return false;
  return true;
}

/** Largest CSeq number allowed (RFC 3261 §8.1.1.5: less than 2**31). */
export const MAX_CSEQ = 0x7fffffff;

/**
 * Parses a CSeq value; undefined when malformed.
 * @example parseCSeq("314159 INVITE") // { seq: 314159, method: "INVITE" }
 */
export function parseCSeq(value: string): CSeq | undefined {
  const n = value.length;
  let i = 0;
  while (i < n && (value.charCodeAt(i) === 0x20 || value.charCodeAt(i) === 0x09)) i++;
  const ds = i;
  let seq = 0;
  while (i < n) {
    const d = value.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) break;
    seq = seq * 10 + d;
    if (seq > MAX_CSEQ) return undefined;
    i++;
  }
  if (i === ds || i - ds > 10) return undefined;
  const ws = i;
  while (i < n && (value.charCodeAt(i) === 0x20 || value.charCodeAt(i) === 0x09)) i++;
  if (i === ws) return undefined;
  let e = n;
  while (e > i && (value.charCodeAt(e - 1) === 0x20 || value.charCodeAt(e - 1) === 0x09)) e--;
  const method = value.slice(i, e);
  if (!isToken(method)) return undefined;
  return { seq, method };
}
