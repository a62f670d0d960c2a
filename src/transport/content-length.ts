// Finds Content-Length (or its compact form `l`) in a SIP header section, for stream framing.
// RFC 3261 §18.3: on a stream the header is mandatory; §20.14: the value is 1*DIGIT. Several
// Content-Length headers that disagree are refused (the classic request-smuggling ambiguity).
// Byte comparisons, no string per header line: only the Content-Length value is decoded.
import type { Failure } from "../errors.js";

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COLON = 58;
const NAME = Buffer.from("content-length", "latin1");

/** Content-Length of a framed header section, or why there is none usable. */
export type ContentLengthResult = { readonly ok: true; readonly value: number } | Failure;

function isContentLengthName(h: Buffer, start: number, end: number): boolean {
  const n = end - start;
  if (n === 1) return ((h[start] as number) | 0x20) === 0x6c; // "l"
  if (n !== NAME.length) return false;
  for (let i = 0; i < n; i++) {
    if (((h[start + i] as number) | 0x20) !== NAME[i]) return false;
  }
  return true;
}

/**
 * Reads Content-Length from `h` (start line, header lines, the empty line). `maxBody` is the most
 * body bytes the message may still carry under maxMessageSize.
 */
export function findContentLength(h: Buffer, maxBody: number): ContentLengthResult {
  let value: string | undefined;
  let inContentLength = false;
  let pos = h.indexOf(LF) + 1; // skip the start line
  while (pos > 0 && pos < h.length) {
    let eol = h.indexOf(LF, pos);
    if (eol === -1) eol = h.length;
    const next = eol + 1;
    let end = eol;
    if (end > pos && h[end - 1] === CR) end--;
    const first = h[pos] as number;
    if (end === pos) {
      pos = next;
      continue;
    }
    if (first === SP || first === HT) {
      // folded continuation (RFC 3261 §7.3.1) of the header before
      if (inContentLength) value += " " + h.toString("latin1", pos, end);
      pos = next;
      continue;
    }
    if (inContentLength) {
      const r = checkValue(value ?? "", maxBody);
      if (!r.ok) return r;
    }
    inContentLength = false;
    const colon = h.indexOf(COLON, pos);
    if (colon !== -1 && colon < end) {
      let nameEnd = colon;
      while (nameEnd > pos && (h[nameEnd - 1] === SP || h[nameEnd - 1] === HT)) nameEnd--;
      if (isContentLengthName(h, pos, nameEnd)) {
        const v = h.toString("latin1", colon + 1, end);
        if (value !== undefined && value.trim() !== v.trim()) {
          return { ok: false, code: "ERR_SIP_BAD_CONTENT_LENGTH", detail: "Content-Length headers disagree" };
        }
        value = v;
        inContentLength = true;
      }
    }
    pos = next;
  }
  if (value === undefined) {
    return { ok: false, code: "ERR_SIP_MISSING_HEADER", detail: "Content-Length is required on stream transports" };
  }
  return checkValue(value, maxBody);
}

function checkValue(raw: string, maxBody: number): ContentLengthResult {
  const v = raw.trim();
  if (!/^[0-9]+$/.test(v)) {
    return {
      ok: false,
      code: "ERR_SIP_BAD_CONTENT_LENGTH",
      detail: `Content-Length ${JSON.stringify(v.slice(0, 32))} is not a number`,
    };
  }
  const n = v.length > 15 ? Infinity : Number(v);
  if (n > maxBody) {
    return { ok: false, code: "ERR_SIP_TOO_LARGE", detail: `Content-Length ${v.slice(0, 32)} exceeds the message size limit` };
  }
  return { ok: true, value: n };
}
