// Builders of SIP message text for tests: a typical INVITE (RFC 3665 style) and a helper that
// parses and asserts success, so each test states only what it changes.
import assert from "node:assert/strict";
import { parseMessage } from "../../src/sip/parse.js";
import type { SipMessage } from "../../src/sip/message.js";
import type { SipLimits } from "../../src/sip/types.js";

export const SDP =
  "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\ns=-\r\nc=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\n";

/** Header lines of a typical INVITE, in order; tests replace or drop entries by name. */
export function inviteHeaders(): [string, string][] {
  return [
    ["Via", "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport"],
    ["Max-Forwards", "70"],
    ["To", "Bob <sip:bob@biloxi.example.com>"],
    ["From", "Alice <sip:alice@atlanta.example.com>;tag=1928301774"],
    ["Call-ID", "a84b4c76e66710@pc33.atlanta.example.com"],
    ["CSeq", "314159 INVITE"],
    ["Contact", "<sip:alice@pc33.atlanta.example.com>"],
    ["Content-Type", "application/sdp"],
  ];
}

/** Message text from a start line, header pairs and a body; Content-Length added unless told not to. */
export function messageText(
  startLine: string,
  headers: readonly (readonly [string, string])[],
  body = "",
  withLength = true,
): string {
  let s = `${startLine}\r\n`;
  for (const [n, v] of headers) s += `${n}: ${v}\r\n`;
  if (withLength) s += `Content-Length: ${Buffer.byteLength(body, "latin1")}\r\n`;
  return `${s}\r\n${body}`;
}

/** A typical INVITE with an SDP body. */
export function inviteText(body = SDP): string {
  return messageText("INVITE sip:bob@biloxi.example.com SIP/2.0", inviteHeaders(), body);
}

/** Parses text (latin1) and asserts it parsed. */
export function parseOk(text: string | Buffer, limits?: SipLimits): SipMessage {
  const r = parseMessage(typeof text === "string" ? Buffer.from(text, "latin1") : text, limits);
  if (!r.ok) assert.fail(`expected a parse, got ${r.code}: ${r.detail}`);
  return r.msg as SipMessage;
}
