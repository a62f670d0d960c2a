// The tm module's params (Kamailio tm: t1/t2/t4, fr_timer, fr_inv_timer, max_inv_lifetime,
// max_noninv_lifetime) in milliseconds, the automatic 100 Trying's delay and reason, plus evsip's
// limit on live transactions, and RFC 7339 overload control towards the servers relayed to. The app
// writes them under `tm`.
import { TM_DEFAULTS, type TmOptions } from "../tm/index.js";
import { boolParam, customParam, intParam, stringParam, type ParamSchema } from "../core/params.js";
import { parsePeers } from "../tm/downstream-overload.js";

/** The tm params, documented once on the transaction layer's own options. */
export type TmParams = Required<TmOptions>;

export const TM_SCHEMA: ParamSchema<TmParams> = {
  t1: intParam(TM_DEFAULTS.t1, 1, 60_000, "RFC 3261 T1 (ms)"),
  t2: intParam(TM_DEFAULTS.t2, 1, 600_000, "RFC 3261 T2 (ms)"),
  t4: intParam(TM_DEFAULTS.t4, 0, 600_000, "RFC 3261 T4 (ms)"),
  frTimer: intParam(TM_DEFAULTS.frTimer, 1, 3_600_000, "final response timer (ms)"),
  frInvTimer: intParam(TM_DEFAULTS.frInvTimer, 1, 3_600_000, "INVITE final response timer after a provisional (ms)"),
  maxInviteLifetime: intParam(TM_DEFAULTS.maxInviteLifetime, 1, 3_600_000, "INVITE transaction lifetime (ms)"),
  maxNonInviteLifetime: intParam(TM_DEFAULTS.maxNonInviteLifetime, 1, 3_600_000, "non-INVITE transaction lifetime (ms)"),
  trying100Delay: intParam(TM_DEFAULTS.trying100Delay, 0, 150, "wait for another response before the automatic 100 Trying (ms)"),
  // A Reason-Phrase (RFC 3261 §25.1) in printable ASCII and HTAB: it goes out as latin1, where a
  // character past U+00FF would lose its high byte (U+010A would become a LF).
  trying100Reason: stringParam(
    TM_DEFAULTS.trying100Reason,
    "reason phrase of the automatic 100 Trying (Kamailio auto_inv_100_reason)",
    /^(?=.*\S)[\x09\x20-\x7e]{1,128}$/,
  ),
  maxTransactions: intParam(
    TM_DEFAULTS.maxTransactions,
    1,
    10_000_000,
    "transactions without a final response before new ones get 503",
  ),
  overloadControl: boolParam(
    TM_DEFAULTS.overloadControl,
    "RFC 7339 towards the servers tm relays to: oc in our Via, and the share of new requests a server asks to be held back answered 503 here (only towards next hops that strip feedback they did not write, as evsip does)",
  ),
  overloadControlPeers: customParam<readonly string[]>(
    TM_DEFAULTS.overloadControlPeers,
    (v) => {
      if (!Array.isArray(v) || !v.every((x) => typeof x === "string"))
        return "must be a list of IP addresses, each with or without a port";
      const r = parsePeers(v);
      return r.ok ? undefined : r.detail;
    },
    "with overloadControl: the next hops it applies to (IP or IP:port, [v6]:port); empty for every next hop",
  ),
  remap503: boolParam(
    TM_DEFAULTS.remap503,
    "a server's 503 that is the best final goes upstream as a 500 (RFC 3261 §16.7 step 6; Kamailio remap_503_500)",
  ),
};
