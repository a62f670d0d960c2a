// Request-Line and Status-Line (RFC 3261 §7.1, §7.2, §25.1): single SP separators, SIP/2.0 only
// (another version is ERR_SIP_BAD_VERSION so a proxy can answer 505), status 100–699.
// Works on bytes and returns offsets: the message decodes its head once and takes the method,
// Request-URI and reason from that text (message.ts).
import type { ErrorCode } from "../errors.js";
import { isTokenChar } from "./cseq.js";

/** What the start line says: the status, and byte ranges of the method, Request-URI and reason. */
export interface StartLine {
  readonly isRequest: boolean;
  /** The method is buf[start of the line, methodEnd) (requests; 0 for responses). */
  readonly methodEnd: number;
  readonly uriStart: number;
  readonly uriEnd: number;
  readonly status: number;
  /** The reason phrase's byte range (responses; empty for requests). */
  readonly reasonStart: number;
  readonly reasonEnd: number;
}

type Failure = { readonly ok: false; readonly code: ErrorCode; readonly detail: string };

const SP = 0x20;

function fail(code: ErrorCode, detail: string): Failure {
  return { ok: false, code, detail };
}

/** "SIP/2.0" in buf[s, e), the protocol name in any case. */
function isSip20(buf: Buffer, s: number, e: number): boolean {
  return (
    e - s === 7 &&
    ((buf[s] ?? 0) | 0x20) === 0x73 &&
    ((buf[s + 1] ?? 0) | 0x20) === 0x69 &&
    ((buf[s + 2] ?? 0) | 0x20) === 0x70 &&
    buf[s + 3] === 0x2f &&
    buf[s + 4] === 0x32 &&
    buf[s + 5] === 0x2e &&
    buf[s + 6] === 0x30
  );
}

/** "SIP/" in any case at s. */
function startsWithSipSlash(buf: Buffer, s: number, e: number): boolean {
  return (
    e - s >= 4 &&
    ((buf[s] ?? 0) | 0x20) === 0x73 &&
    ((buf[s + 1] ?? 0) | 0x20) === 0x69 &&
    ((buf[s + 2] ?? 0) | 0x20) === 0x70 &&
    buf[s + 3] === 0x2f
  );
}

function parseStatusLine(buf: Buffer, s: number, e: number): StartLine | Failure {
  const sp1 = buf.indexOf(SP, s);
  if (sp1 < 0 || sp1 >= e) return fail("ERR_SIP_BAD_START_LINE", "status line without status code");
  if (!isSip20(buf, s, sp1)) return fail("ERR_SIP_BAD_VERSION", "not SIP/2.0");
  const d = sp1 + 1;
  let status = 0;
  for (let i = d; i < d + 3; i++) {
    const c = (buf[i] ?? 0) - 0x30;
    if (i >= e || c < 0 || c > 9) return fail("ERR_SIP_BAD_STATUS", "status code is not 3 digits");
    status = status * 10 + c;
  }
  if (status < 100 || status > 699) return fail("ERR_SIP_BAD_STATUS", `status ${status} out of range`);
  if (d + 3 < e && buf[d + 3] !== SP) return fail("ERR_SIP_BAD_STATUS", "status code is not 3 digits");
  for (let i = d + 4; i < e; i++) {
    const c = buf[i] ?? 0;
    if (c < 0x20 && c !== 0x09) return fail("ERR_SIP_BAD_START_LINE", "control character in reason phrase");
  }
  const rs = Math.min(d + 4, e);
  return { isRequest: false, methodEnd: 0, uriStart: 0, uriEnd: 0, status, reasonStart: rs, reasonEnd: e };
}

/** Parses the start line in buf[s, e) (CRLF excluded). */
export function parseStartLine(buf: Buffer, s: number, e: number): StartLine | Failure {
  if (startsWithSipSlash(buf, s, e)) return parseStatusLine(buf, s, e);
  let i = s;
  while (i < e && isTokenChar(buf[i] ?? 0)) i++;
  if (i === s || i >= e || buf[i] !== SP) return fail("ERR_SIP_BAD_START_LINE", "no method token");
  const us = i + 1;
  let ue = us;
  while (ue < e) {
    const c = buf[ue] ?? 0;
    if (c === SP) break;
    if (c < 0x20 || c === 0x7f) return fail("ERR_SIP_BAD_START_LINE", "control character in Request-URI");
    ue++;
  }
  if (ue === us || ue >= e) return fail("ERR_SIP_BAD_START_LINE", "no Request-URI or no version");
  const vs = ue + 1;
  for (let k = vs; k < e; k++) {
    if (buf[k] === SP || buf[k] === 0x09) return fail("ERR_SIP_BAD_START_LINE", "extra whitespace in request line");
  }
  if (!isSip20(buf, vs, e)) {
    return startsWithSipSlash(buf, vs, e)
      ? fail("ERR_SIP_BAD_VERSION", "not SIP/2.0")
      : fail("ERR_SIP_BAD_START_LINE", "no SIP version");
  }
  return { isRequest: true, methodEnd: i, uriStart: us, uriEnd: ue, status: 0, reasonStart: 0, reasonEnd: 0 };
}
