// Public surface of the transaction layer (RFC 3261 §17, Kamailio tm suspend/continue).
export { TransactionLayer } from "./transaction-layer.js";
export { ServerTransaction } from "./server-transaction.js";
export { ClientTransaction } from "./client-transaction.js";
export type { TmStats } from "./context.js";
export type { HoldOptions, SuspensionWatcher } from "./suspend.js";
export { hashIndex, parseIdent } from "./transaction-id.js";
export { TM_DEFAULTS } from "./types.js";
export type { ReplyVerdict, TmFailure, TmCallbacks, TmOptions, TmSource, TmTransport } from "./types.js";
