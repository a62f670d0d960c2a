// Requests a proxy or UAC builds from an INVITE it sent: CANCEL (RFC 3261 §9.1: same Request-URI,
// only the top Via, From, To, Call-ID, CSeq number with method CANCEL, the Route set) and the ACK for
// a non-2xx final response (§17.1.1.3: top Via of the INVITE, To from the response, same CSeq number).
import type { SipMessageLike } from "./types.js";
import { rawLines } from "./build-response.js";

function topViaValue(invite: SipMessageLike): string {
  return invite.headerValues("via")[0] ?? "";
}

function common(method: string, invite: SipMessageLike, ruri: string, to: string): string {
  let s = `${method} ${ruri} SIP/2.0\r\n`;
  s += `Via: ${topViaValue(invite)}\r\n`;
  s += `Max-Forwards: 70\r\n`;
  s += `From: ${invite.header("from") ?? ""}\r\n`;
  s += `To: ${to}\r\n`;
  s += `Call-ID: ${invite.header("call-id") ?? ""}\r\n`;
  s += `CSeq: ${invite.cseq.seq} ${method}\r\n`;
  for (const r of rawLines(invite, "route")) s += `Route: ${r}\r\n`;
  s += "Content-Length: 0\r\n\r\n";
  return s;
}

/**
 * Builds the CANCEL for an INVITE this side sent (RFC 3261 §9.1).
 * @example transport.send(buildCancel(invite))
 */
export function buildCancel(invite: SipMessageLike, requestUri?: string): Buffer {
  return Buffer.from(common("CANCEL", invite, requestUri ?? invite.requestUri, invite.header("to") ?? ""), "latin1");
}

/**
 * Builds the ACK for a non-2xx final response to an INVITE this side sent (RFC 3261 §17.1.1.3).
 * @example transport.send(buildAckForNon2xx(invite, response))
 */
export function buildAckForNon2xx(invite: SipMessageLike, response: SipMessageLike): Buffer {
  const to = response.header("to") ?? invite.header("to") ?? "";
  return Buffer.from(common("ACK", invite, invite.requestUri, to), "latin1");
}

/** What buildInDialogRequest needs: the dialog's side of things, already chosen by the caller. */
export interface InDialogRequestSpec {
  readonly method: string;
  readonly requestUri: string;
  /** The Via line (`Via: SIP/2.0/UDP host:port;branch=…`). */
  readonly via: string;
  /** Route values, top first. */
  readonly routes: readonly string[];
  /** From and To values, tags included. */
  readonly from: string;
  readonly to: string;
  readonly callId: string;
  readonly cseq: number;
}

/**
 * Builds a request within a dialog that this side originates (RFC 3261 §12.2.1.1): a BYE or an
 * OPTIONS keepalive sent by the router for a dialog it tracks.
 * @example buildInDialogRequest({ method: "BYE", requestUri: contact, via, routes, from, to, callId, cseq: 2 })
 */
export function buildInDialogRequest(spec: InDialogRequestSpec): Buffer {
  let s = `${spec.method} ${spec.requestUri} SIP/2.0\r\n${spec.via}\r\nMax-Forwards: 70\r\n`;
  for (const r of spec.routes) s += `Route: ${r}\r\n`;
  s += `From: ${spec.from}\r\nTo: ${spec.to}\r\nCall-ID: ${spec.callId}\r\nCSeq: ${spec.cseq} ${spec.method}\r\n`;
  s += "Content-Length: 0\r\n\r\n";
  return Buffer.from(s, "latin1");
}
