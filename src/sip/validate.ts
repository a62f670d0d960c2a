// validate(): the one check the router runs before routing (RFC 3261 §8.2.2, §16.3): mandatory
// headers present once and well formed (Via, From, To, Call-ID, CSeq), CSeq method = request method,
// a parseable Request-URI and Max-Forwards. Returns a coded result; never throws.
import { type ErrorCode, SipParseError } from "../errors.js";
import { KEYS, nameMatches } from "./header-names.js";
import { NAME_END, NAME_START } from "./header-table.js";
import type { SipMessage } from "./message.js";

type Result = { ok: true } | { ok: false; code: ErrorCode; detail: string };

const OK: Result = Object.freeze({ ok: true });

const SINGLE = [KEYS.from, KEYS.to, KEYS.callId, KEYS.cseq] as const;
const SINGLE_NAMES = ["From", "To", "Call-ID", "CSeq"] as const;

/** One pass over the header names: how many From, To, Call-ID, CSeq lines, and whether Via exists. */
function countMandatory(msg: SipMessage, counts: number[]): boolean {
  const t = msg.headers;
  let via = false;
  for (let i = 0; i < t.count; i++) {
    const s = t.at(i, NAME_START);
    const e = t.at(i, NAME_END);
    if (!via && nameMatches(t.buf, s, e, KEYS.via)) {
      via = true;
      continue;
    }
    for (let k = 0; k < SINGLE.length; k++) {
      if (nameMatches(t.buf, s, e, SINGLE[k] ?? KEYS.via)) {
        counts[k] = (counts[k] ?? 0) + 1;
        break;
      }
    }
  }
  return via;
}

/** Validates the mandatory parts of msg; the first problem found is returned with its code. */
export function validateMessage(msg: SipMessage): Result {
  try {
    const counts = [0, 0, 0, 0];
    if (!countMandatory(msg, counts)) return { ok: false, code: "ERR_SIP_MISSING_HEADER", detail: "no Via header" };
    for (let k = 0; k < counts.length; k++) {
      const n = counts[k] ?? 0;
      const name = SINGLE_NAMES[k] ?? "";
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
