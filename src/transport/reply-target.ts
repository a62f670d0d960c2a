// Where a response goes, from the Via header: RFC 3261 §18.2.2 (server transport, sending
// responses) with RFC 3581 (rport, symmetric response routing). Pure functions over the message;
// the TransportLayer adds the lookup of a held TCP connection. The typed Via getters may throw on
// a malformed Via, so each read is guarded and falls back to the packet source.
import type { SipMessageLike, Via } from "../sip/types.js";
import { normalizeHost } from "./listen-spec.js";
import type { Destination, Proto, Source } from "./types.js";

/** Default SIP port for UDP and TCP (RFC 3261 §19.1.2). */
export const SIP_DEFAULT_PORT = 5060;
/** Default port of a sips: URI, SIP over TLS (RFC 3261 §19.1.2). */
export const SIPS_DEFAULT_PORT = 5061;

function topViaOf(msg: SipMessageLike): Via | undefined {
  try {
    return msg.vias[0];
  } catch {
    return undefined;
  }
}

/** "UDP" → udp, "TCP" → tcp; other transports (TLS, SCTP, WS) are not served here. */
export function protoOfVia(transport: string): Proto | undefined {
  const t = transport.toUpperCase();
  if (t === "UDP") return "udp";
  if (t === "TCP") return "tcp";
  return undefined;
}

/**
 * Where the response to `req`, received from `src`, goes.
 * - TCP: the same connection (connId); should it be gone, the source address with the Via
 *   sent-by port (or 5060), or the source port when the Via asked for rport.
 * - UDP: the source address (what `received` would say) and, with `rport` in the top Via, the
 *   source port (RFC 3581 §4); without it, the sent-by port or 5060 (RFC 3261 §18.2.2).
 * maddr in the request's Via is ignored: it would let a peer aim responses at a third party.
 */
export function replyDestination(req: SipMessageLike, src: Source): Destination {
  const via = topViaOf(req);
  const port = via === undefined || via.rport !== undefined ? src.remotePort : (via.port ?? SIP_DEFAULT_PORT);
  if (src.proto === "tcp") return { proto: "tcp", addr: src.remoteAddr, port, connId: src.connId };
  return { proto: "udp", addr: src.remoteAddr, port };
}

/**
 * Where a proxy forwards a response once its own Via is removed: the (new) top Via's transport,
 * and `received` (else, over UDP, `maddr`, else the sent-by host) with `rport=N` (else the sent-by port,
 * else 5060). undefined when there is no Via left, or its transport is not UDP/TCP.
 */
export function responseTarget(res: SipMessageLike): { proto: Proto; addr: string; port: number } | undefined {
  const via = topViaOf(res);
  return via === undefined ? undefined : viaTarget(via);
}

/** responseTarget for one Via: a proxy passes the Via below its own, with no re-parse. */
export function viaTarget(via: Via): { proto: Proto; addr: string; port: number } | undefined {
  const proto = protoOfVia(via.transport);
  if (proto === undefined) return undefined;
  const maddr = via.params.get("maddr") ?? undefined;
  const host = via.received ?? (proto === "udp" ? maddr : undefined) ?? via.host;
  if (host === "") return undefined;
  const port = typeof via.rport === "number" ? via.rport : (via.port ?? SIP_DEFAULT_PORT);
  return { proto, addr: normalizeHost(host), port };
}
