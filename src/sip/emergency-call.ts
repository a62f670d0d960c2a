// Which requests are emergency calls: INVITEs addressed to the emergency service URN (RFC 5031), as
// RFC 6881 asks a caller to address them. Overload control lets these through first (RFC 7339
// §5.10.1): when evsip refuses new work (up to admission.emergencyRate a second), when tm holds
// new work back for a server that asks for less, and past tm's maxTransactions (a small reserve).
//
// Only the Request-URI counts, and only an INVITE: a To header or a Resource-Priority (RFC 4412)
// would let any call through unchanged. Any caller can still write the URN; the call is then routed
// as an emergency call, and admission's rate bounds how much such traffic passes an overload.
// A call dialled as a number (sip:112@…, tel:911) is not recognised: the route that maps it to the
// URN runs after admission.
import type { SipMessageLike } from "./types.js";

const SOS = "urn:service:sos";

/**
 * True for an INVITE whose Request-URI is `urn:service:sos` or one of its sub-services
 * (`urn:service:sos.police`), in any case, with or without parameters.
 * @example isEmergencyCall(invite("URN:Service:SOS.fire")) // true
 */
export function isEmergencyCall(msg: SipMessageLike): boolean {
  if (msg.method !== "INVITE") return false;
  // Asked only while new work is refused or held back, so a lower-cased copy costs nothing the rest of the time.
  const u = msg.requestUri;
  if (u.length < SOS.length || u.slice(0, SOS.length).toLowerCase() !== SOS) return false;
  if (u.length === SOS.length) return true;
  const next = u.charCodeAt(SOS.length);
  if (next === 0x3b) return true; // ";" a parameter
  // "." a sub-service, which has a name
  return next === 0x2e && u.length > SOS.length + 1 && u.charCodeAt(SOS.length + 1) !== 0x3b;
}
