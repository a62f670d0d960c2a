// The head of a request that failed to parse only in its framing (a Content-Length longer than the
// datagram, no empty line after the headers, a bad Content-Length), re-read without its body so
// the router can answer 400 as RFC 3261 §8.2 and §16.3 ask instead of dropping it silently.
// Pure; total: any input gives a message or undefined.
import { parseMessage } from "./parse.js";
import type { SipLimits, SipMessageLike } from "./types.js";
import type { ErrorCode } from "../errors.js";

/** The framing errors after which the head may still be read. */
export const SALVAGEABLE: ReadonlySet<ErrorCode> = new Set([
  "ERR_SIP_BODY_TRUNCATED",
  "ERR_SIP_NO_HEADER_END",
  "ERR_SIP_BAD_CONTENT_LENGTH",
]);

const CONTENT_LENGTH_LINE = /^(?:content-length|l)[ \t]*:/i;

/** The request head of `buf` with its Content-Length set to 0 and no body; undefined when it is not a request. */
export function salvageRequestHead(buf: Buffer, limits: SipLimits): SipMessageLike | undefined {
  const text = buf.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const head = (end >= 0 ? text.slice(0, end) : text).replace(/[\r\n]+$/, "");
  const lines = head.split(/\r?\n/).filter((l) => !CONTENT_LENGTH_LINE.test(l));
  const r = parseMessage(Buffer.from(`${lines.join("\r\n")}\r\nContent-Length: 0\r\n\r\n`, "latin1"), limits);
  return r.ok && r.msg.isRequest ? r.msg : undefined;
}
