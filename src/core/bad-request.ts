// A request that is malformed but can still be answered gets a stateless 400 whose reason names
// the problem (RFC 3261 §8.2: a UAS answers a request it cannot understand; §16.3: a proxy answers
// a request that fails validation), as Kamailio's sanity module would. "Can be answered" means a
// request other than ACK whose top Via parses, so the reply has somewhere to go. Counted by code
// (evsip_core_bad_request_answered_total{reason}) and logged, rate-limited, with the code.
import type { ErrorCode } from "../errors.js";
import type { SipMessageLike } from "../sip/types.js";
import type { Source } from "../transport/types.js";
import type { StatelessReplier } from "./sl.js";

/** The reason phrase of the 400 for each code that can be answered. */
const REASONS: Partial<Record<ErrorCode, string>> = {
  ERR_SIP_BODY_TRUNCATED: "Bad Request - Content-Length Exceeds Message",
  ERR_SIP_NO_HEADER_END: "Bad Request - No Empty Line After Headers",
  ERR_SIP_BAD_CONTENT_LENGTH: "Bad Request - Bad Content-Length",
  ERR_SIP_MISSING_HEADER: "Bad Request - Missing or Repeated Mandatory Header",
  ERR_SIP_BAD_URI: "Bad Request - Bad Request-URI",
  ERR_SIP_BAD_CSEQ: "Bad Request - Bad CSeq",
  ERR_SIP_BAD_NAME_ADDR: "Bad Request - Bad From, To, Contact or Route",
  ERR_SIP_CSEQ_METHOD_MISMATCH: "Bad Request - CSeq Method Mismatch",
};

/** True when `fn` does not throw (a getter on a malformed header throws SipParseError). */
function parses(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

/** Sends the 400 for `code` when the request can be answered; returns whether it did. */
export function answerBadRequest(
  sl: StatelessReplier,
  answered: Map<ErrorCode, number>,
  req: SipMessageLike,
  src: Source,
  code: ErrorCode,
): boolean {
  const reason = REASONS[code];
  if (reason === undefined || !req.isRequest || req.method === "ACK" || !parses(() => req.topVia)) return false;
  // A To tag that is stable for retransmissions when the headers it hashes parse; none otherwise.
  const hasIds = parses(() => sl.toTagFor(req)) && parses(() => req.to);
  const sent = hasIds ? sl.replyTo(req, src, 400, reason) : sl.replyRaw(req, src, 400, reason);
  if (sent) answered.set(code, (answered.get(code) ?? 0) + 1);
  return sent;
}
