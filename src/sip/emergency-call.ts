// Which requests are emergency calls: addressed to the emergency service URN (RFC 5031), as RFC 6881
// asks a caller to address them. Overload control lets these through first (RFC 7339 §5.10.1), both
// when evsip refuses new work and when it holds back new work for a server that asks for less.
//
// Only the Request-URI counts. A caller could write any URN there to escape shedding, but the call
// is then routed as an emergency call, not where the caller wanted it; a To header or a
// Resource-Priority (RFC 4412) would let any call through unchanged.
import type { SipMessageLike } from "./types.js";

const SOS = "urn:service:sos";

/**
 * True when the Request-URI is `urn:service:sos` or one of its sub-services (`urn:service:sos.police`),
 * in any case, with or without parameters.
 * @example isEmergencyCall(invite("URN:Service:SOS.fire")) // true
 */
export function isEmergencyCall(msg: SipMessageLike): boolean {
  // Asked only while new work is refused or held back, so a lower-cased copy costs nothing the rest of the time.
  const u = msg.requestUri;
  if (u.length < SOS.length || u.slice(0, SOS.length).toLowerCase() !== SOS) return false;
  const next = u.charCodeAt(SOS.length); // NaN at the end
  return u.length === SOS.length || next === 0x2e || next === 0x3b; // "." a sub-service, ";" a parameter
}
