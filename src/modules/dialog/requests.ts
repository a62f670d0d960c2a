// The requests the router sends within a dialog (BYE on timeout, dlg_bye, keepalive OPTIONS), as
// core's InDialogRequest: towards the callee the router speaks as the caller (From = caller's From,
// To = callee's To, CSeq above the caller's), towards the caller the other way round. Each request
// raises the CSeq of the side it speaks for, so a second one is never below the first.
import type { InDialogRequest } from "../../core/transaction-user.js";
import type { DialogRecord } from "./api-types.js";
import type { Direction } from "./dialog-table.js";

/** The request `method` towards `to` (the side that receives it). */
export function requestTowards(d: DialogRecord, to: Direction, method: "BYE" | "OPTIONS"): InDialogRequest {
  const speaker = to === "callee" ? d.caller : d.callee;
  speaker.cseq += 1;
  const target = to === "callee" ? d.callee : d.caller;
  return {
    method,
    remoteTarget: target.contact,
    routeSet: target.routeSet,
    callId: d.callId,
    from: to === "callee" ? d.fromHeader : d.toHeader,
    to: to === "callee" ? d.toHeader : d.fromHeader,
    cseq: speaker.cseq,
  };
}
