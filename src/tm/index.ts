// Public surface of the transaction layer (RFC 3261 §17, Kamailio tm suspend/continue).
export { TransactionLayer, type TransactionLayerOptions } from "./transaction-layer.js";
export { ServerTransaction, type ServerState } from "./server-transaction.js";
export { ClientTransaction, type ClientState } from "./client-transaction.js";
export type { ReplyOptions } from "./reply.js";
export type { TmStats } from "./context.js";
export { hashIndex, parseIdent, TM_TABLE_SIZE } from "./transaction-id.js";
export { MAGIC_COOKIE } from "./match-key.js";
export type { ReplyVerdict, TmDestination, TmFailure, TmCallbacks, TmOptions, TmProto, TmSource, TmTransport } from "./types.js";
