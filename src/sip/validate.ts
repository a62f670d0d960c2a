// validate(): the one check the router runs before routing (RFC 3261 §8.2.2, §16.3): mandatory
// headers present once and well formed (Via, From, To, Call-ID, CSeq), CSeq method = request method,
// a parseable Request-URI and Max-Forwards. Returns a coded result; never throws.
import { type ErrorCode, SipParseError } from "../errors.js";
import { KEYS } from "./header-names.js";
import type { SipMessage } from "./message.js";

type Result = { ok: true } | { ok: false; code: ErrorCode; detail: string };

const OK: Result = Object.freeze({ ok: true });

const SINGLE = [
  [KEYS.from, "From"],
  [KEYS.to, "To"],
  [KEYS.callId, "Call-ID"],
  [KEYS.cseq, "CSeq"],
] as const;

/** Validates the mandatory parts of msg; the first problem found is returned with its code. */
export function validateMessage(msg: SipMessage): Result {
  try {
    if (msg.headers.find(KEYS.via) < 0) return { ok: false, code: "ERR_SIP_MISSING_HEADER", detail: "no Via header" };
    for (const [key, name] of SINGLE) {
      const n = msg.headers.countOf(key);
      if (n === 0) return { ok: false, code: "ERR_SIP_MISSING_HEADER", detail: `no ${name} header` };
      if (n > 1) return { ok: false, code: "ERR_SIP_BAD_HEADER", detail: `${n} ${name} headers` };
    }
    void msg.vias;
    void msg.from;
    void msg.to;
    void msg.callId;
    const cseq = msg.cseq;
    if (msg.isRequest) {
      void msg.uri;
      void msg.maxForwards;
      if (cseq.method !== msg.method) {
        return { ok: false, code: "ERR_SIP_CSEQ_METHOD_MISMATCH", detail: `CSeq ${cseq.method} on ${msg.method}` };
      }
    }
    return OK;
  } catch (e) {
    if (e instanceof SipParseError) return { ok: false, code: e.code, detail: e.message };
    return { ok: false, code: "ERR_SIP_BAD_HEADER", detail: String(e) };
  }
}
