// Which requests open new work: what an overloaded hop may refuse or hold back, as opposed to what
// keeps calls already in progress whole (an ACK, a CANCEL, anything within a dialog). Admission
// control refuses only these when SIP input falls behind, and tm holds back only these when a
// server it relays to asks for less (RFC 7339).
import type { SipMessageLike } from "./types.js";

/** True for a request that opens new work: not an ACK or a CANCEL, and no To tag (outside a dialog). */
export function opensNewWork(msg: SipMessageLike): boolean {
  const m = msg.method;
  return m !== "ACK" && m !== "CANCEL" && (msg.to.tag === undefined || msg.to.tag === "");
}
