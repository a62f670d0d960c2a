// The tm module's params (Kamailio tm: t1/t2/t4, fr_timer, fr_inv_timer, max_inv_lifetime,
// max_noninv_lifetime) in milliseconds, plus evsip's limit on live transactions. The app writes
// them under `tm`.
import type { TmOptions } from "../tm/index.js";
import { intParam, type ParamSchema } from "../core/params.js";

/** The tm params, documented once on the transaction layer's own options. */
export type TmParams = Required<Omit<TmOptions, "trying100Reason">>;

export const TM_SCHEMA: ParamSchema<TmParams> = {
  t1: intParam(500, 1, 60_000, "RFC 3261 T1 (ms)"),
  t2: intParam(4000, 1, 600_000, "RFC 3261 T2 (ms)"),
  t4: intParam(5000, 0, 600_000, "RFC 3261 T4 (ms)"),
  frTimer: intParam(30_000, 1, 3_600_000, "final response timer (ms)"),
  frInvTimer: intParam(120_000, 1, 3_600_000, "INVITE final response timer after a provisional (ms)"),
  maxInviteLifetime: intParam(180_000, 1, 3_600_000, "INVITE transaction lifetime (ms)"),
  maxNonInviteLifetime: intParam(32_000, 1, 3_600_000, "non-INVITE transaction lifetime (ms)"),
  maxTransactions: intParam(100_000, 1, 10_000_000, "live transactions before new ones get 503"),
};
