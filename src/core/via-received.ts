// RFC 3261 §18.2.1 and RFC 3581 §4: a server adds `received` when the top Via's sent-by is not the
// packet's source, and fills an empty `rport`. evsip does it on every request it forwards, so a
// response coming back statelessly finds the UAC's real address. Over TCP both are always added,
// so a response finds the connection the request came on (§18.2.2).
import type { SipMessageLike } from "../sip/types.js";
import type { Source } from "../transport/types.js";
import { unbracket } from "../common/host-port.js";

/** The rewritten top Via line ("Via: …"), or undefined when it needs no change. */
export function receivedViaLine(msg: SipMessageLike, src: Source): string | undefined {
  const via = msg.topVia;
  const stream = src.proto === "tcp";
  let v = via.raw;
  if (via.rport === null) v = v.replace(/;\s*rport(?=\s*;|\s*$)/i, `;rport=${src.remotePort}`);
  else if (via.rport === undefined && stream) v += `;rport=${src.remotePort}`;
  if (via.received === undefined && (stream || unbracket(via.host) !== src.remoteAddr)) v += `;received=${src.remoteAddr}`;
  return v === via.raw ? undefined : `Via: ${v}`;
}
