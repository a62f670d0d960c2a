// parseMessage: one pass over the bytes that finds the start line, the offsets of every header
// line and the body (RFC 3261 §7, §18.3 framing), enforcing SipLimits. Nothing is decoded beyond
// the start line and Content-Length; header values are decoded on first use by SipMessage.
// Total: any input returns a ParseResult; every loop advances, so arbitrary bytes cannot hang it.
import type { ErrorCode } from "../errors.js";
import { DEFAULT_SIP_LIMITS, type ParseResult, type SipLimits } from "./types.js";
import { KEYS, nameMatches } from "./header-names.js";
import { isTokenChar } from "./cseq.js";
import { SipMessage } from "./message.js";
import { parseStartLine } from "./start-line.js";

/** Options of parseMessage beyond the limits. */
export interface ParseOptions {
  /**
   * The bytes came over a stream (TCP/TLS): Content-Length is mandatory (RFC 3261 §18.3).
   * Over a datagram (the default) a missing Content-Length means "the rest of the buffer".
   */
  readonly stream?: boolean;
}

/** The header offsets of the message being parsed (parseMessage is synchronous, never re-entered). */
const OFFSETS: number[] = [];

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;

function fail(code: ErrorCode, detail: string): ParseResult {
  return { ok: false, code, detail };
}

/** Parses Content-Length digits in buf[s, e); -1 when not a plain decimal within max. */
function parseLength(buf: Buffer, s: number, e: number, max: number): number {
  if (e <= s || e - s > 10) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = (buf[i] ?? 0) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v > max ? -1 : v;
}

/**
 * Parses one SIP message (request or response) from `buf`. Never throws.
 * @example
 * const r = parseMessage(Buffer.from("OPTIONS sip:a@b SIP/2.0\r\nVia: …\r\n\r\n"));
 * if (r.ok) console.log(r.msg.method); else console.log(r.code);
 */
export function parseMessage(buf: Buffer, limits: SipLimits = DEFAULT_SIP_LIMITS, opts?: ParseOptions): ParseResult {
  const len = buf.length;
  if (len > limits.maxMessageSize) return fail("ERR_SIP_TOO_LARGE", `${len} bytes > ${limits.maxMessageSize}`);
  let pos = 0;
  while (pos < len && (buf[pos] === CR || buf[pos] === LF)) pos++; // keep-alive CRLFs before a message
  if (pos >= len) return fail("ERR_SIP_EMPTY", "no bytes besides CRLF");
  const nul = buf.indexOf(0, pos);
  const maxLine = limits.maxLineLength;

  // start line
  let lf = buf.indexOf(LF, pos);
  if (lf < 0 || (nul >= 0 && nul < lf)) {
    if (nul >= 0) return fail("ERR_SIP_NUL_BYTE", `NUL at ${nul}`);
    return fail(len - pos > maxLine ? "ERR_SIP_LINE_TOO_LONG" : "ERR_SIP_NO_HEADER_END", "start line not terminated");
  }
  let end = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
  if (end - pos > maxLine) return fail("ERR_SIP_LINE_TOO_LONG", `start line of ${end - pos} bytes`);
  const lineStart = pos;
  const start = parseStartLine(buf, pos, end);
  if ("ok" in start) return start;
  pos = lf + 1;
  const headerStart = pos;

  // header lines
  // Offsets are gathered in one array reused by every parse and copied out once at the end: pushing
  // into a fresh array grew it (and copied it) several times per message.
  const idx = OFFSETS;
  let n = 0;
  const maxHeaders = limits.maxHeaders;
  let count = 0;
  let cl = -1; // header index of the first Content-Length
  let clMany = false;
  let bodyStart: number;
  for (;;) {
    lf = buf.indexOf(LF, pos);
    if (lf < 0) {
      if (nul >= 0) return fail("ERR_SIP_NUL_BYTE", `NUL at ${nul}`);
      return fail(len - pos > maxLine ? "ERR_SIP_LINE_TOO_LONG" : "ERR_SIP_NO_HEADER_END", "no empty line after headers");
    }
    if (nul >= pos && nul < lf) return fail("ERR_SIP_NUL_BYTE", `NUL at ${nul} in the header section`);
    end = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
    if (end - pos > maxLine) return fail("ERR_SIP_LINE_TOO_LONG", `header line of ${end - pos} bytes`);
    if (end === pos) {
      bodyStart = lf + 1;
      break;
    }
    const c0 = buf[pos];
    if (c0 === SP || c0 === HT) {
      // obsolete line folding: this line continues the previous header (RFC 3261 §7.3.1)
      if (count === 0) return fail("ERR_SIP_BAD_HEADER", "continuation line before any header");
      const base = n - 6;
      let ve = end;
      while (ve > pos && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--;
      if (ve > pos) idx[base + 3] = ve;
      idx[base + 4] = lf + 1;
      idx[base + 5] = 1;
      if (lf + 1 - (idx[base] ?? 0) > maxLine) return fail("ERR_SIP_LINE_TOO_LONG", "folded header too long");
      pos = lf + 1;
      continue;
    }
    let j = pos;
    while (j < end && isTokenChar(buf[j] ?? 0)) j++;
    const ne = j;
    while (j < end && (buf[j] === SP || buf[j] === HT)) j++;
    if (ne === pos || j >= end || buf[j] !== 0x3a) {
      return fail("ERR_SIP_BAD_HEADER", `malformed header line at byte ${pos}`);
    }
    j++;
    while (j < end && (buf[j] === SP || buf[j] === HT)) j++;
    let ve = end;
    while (ve > j && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--;
    if (++count > maxHeaders) return fail("ERR_SIP_TOO_MANY_HEADERS", `more than ${maxHeaders} header lines`);
    if (nameMatches(buf, pos, ne, KEYS.contentLength)) {
      if (cl < 0) cl = count - 1;
      else clMany = true;
    }
    idx[n] = pos;
    idx[n + 1] = ne;
    idx[n + 2] = j;
    idx[n + 3] = ve;
    idx[n + 4] = lf + 1;
    idx[n + 5] = 0;
    n += 6;
    pos = lf + 1;
  }

  // body framing by Content-Length (RFC 3261 §18.3, §20.14)
  let bodyEnd = len;
  let contentLength = -1;
  if (cl >= 0) {
    const b = cl * 6;
    contentLength = parseLength(buf, idx[b + 2] ?? 0, idx[b + 3] ?? 0, limits.maxMessageSize);
    if (contentLength < 0) return fail("ERR_SIP_BAD_CONTENT_LENGTH", "Content-Length is not a decimal within limits");
    if (clMany) {
      for (let b2 = b + 6; b2 < n; b2 += 6) {
        if (!nameMatches(buf, idx[b2] ?? 0, idx[b2 + 1] ?? 0, KEYS.contentLength)) continue;
        if (parseLength(buf, idx[b2 + 2] ?? 0, idx[b2 + 3] ?? 0, limits.maxMessageSize) !== contentLength) {
          return fail("ERR_SIP_BAD_CONTENT_LENGTH", "several Content-Length headers disagree");
        }
      }
    }
    if (bodyStart + contentLength > len) {
      return fail("ERR_SIP_BODY_TRUNCATED", `Content-Length ${contentLength}, ${len - bodyStart} body bytes`);
    }
    bodyEnd = bodyStart + contentLength;
  } else if (opts?.stream === true) {
    return fail("ERR_SIP_BAD_CONTENT_LENGTH", "Content-Length is mandatory over a stream");
  }
  return {
    ok: true,
    msg: new SipMessage(buf, start, idx.slice(0, n), { lineStart, headerStart, bodyStart, bodyEnd }, contentLength),
  };
}
