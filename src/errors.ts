// The one error base of the router and the catalogue of stable codes users match on (evsip-client's
// ClientError uses the ERR_CLIENT_*/ERR_NETSTRING_* codes below without importing this file).
// A leaf: imports nothing. Every code here has a row in docs/errors.md (a test checks both ways).
// Peer garbage on hot paths is not thrown: parsers return { ok: false, code } with one of these codes.

/** Every stable error code, grouped by layer. Add new codes to the group of their layer. */
export const ERROR_CODES = [
  // config / app
  "ERR_CONFIG_INVALID",
  "ERR_CONFIG_UNKNOWN_MODULE",
  "ERR_APP_LOAD",
  "ERR_LISTEN_FAILED",
  "ERR_EVENT_ROUTE_NAME",
  "ERR_ROUTE_NOT_FOUND",
  "ERR_ROUTE_THREW",
  "ERR_OVERLOAD",
  "ERR_LOCK_BUSY",
  "ERR_LOCK_TIMEOUT",
  "ERR_PV_UNKNOWN",
  "ERR_PV_READONLY",
  "ERR_PV_UNSUPPORTED",
  "ERR_TR_UNKNOWN",
  // cfg (a Kamailio config loaded as it is)
  "ERR_CFG_SYNTAX",
  "ERR_CFG_UNSUPPORTED",
  "ERR_CFG_INCLUDE",
  "ERR_CFG_ROUTE_TYPE",
  "ERR_CFG_RUNAWAY_WHILE",
  // sip
  "ERR_SIP_EMPTY",
  "ERR_SIP_TOO_LARGE",
  "ERR_SIP_BAD_START_LINE",
  "ERR_SIP_BAD_VERSION",
  "ERR_SIP_BAD_STATUS",
  "ERR_SIP_BAD_HEADER",
  "ERR_SIP_TOO_MANY_HEADERS",
  "ERR_SIP_LINE_TOO_LONG",
  "ERR_SIP_NUL_BYTE",
  "ERR_SIP_NO_HEADER_END",
  "ERR_SIP_BAD_CONTENT_LENGTH",
  "ERR_SIP_BODY_TRUNCATED",
  "ERR_SIP_MISSING_HEADER",
  "ERR_SIP_BAD_URI",
  "ERR_SIP_BAD_VIA",
  "ERR_SIP_BAD_CSEQ",
  "ERR_SIP_BAD_NAME_ADDR",
  "ERR_SIP_CSEQ_METHOD_MISMATCH",
  // transport
  "ERR_TRANSPORT_BAD_LISTEN",
  "ERR_TRANSPORT_MAX_CONNECTIONS",
  "ERR_TRANSPORT_IDLE_TIMEOUT",
  "ERR_TRANSPORT_NO_ROUTE",
  "ERR_TRANSPORT_SEND_FAILED",
  "ERR_TRANSPORT_INTERNAL",
  "ERR_TRANSPORT_NO_CONNECTION",
  "ERR_TRANSPORT_SLOW_PEER",
  "ERR_TRANSPORT_TRUNCATED",
  "ERR_TRANSPORT_RECV_BUFFER_CAPPED",
  // core
  "ERR_MAXFWD_EXCEEDED",
  "ERR_FORWARD_NO_TARGET",
  // tm
  "ERR_TM_LIMIT",
  "ERR_TM_NO_TRANSACTION",
  "ERR_TM_NOT_FOUND",
  "ERR_TM_LABEL_MISMATCH",
  "ERR_TM_NOT_SUSPENDED",
  "ERR_TM_TIMEOUT",
  "ERR_TM_CANCELLED",
  "ERR_TM_ALREADY_REPLIED",
  "ERR_TM_OBSERVER_THREW",
  "ERR_TM_SHUTDOWN",
  // dialog
  "ERR_DIALOG_LIMIT",
  "ERR_DIALOG_IDS_IN_USE",
  "ERR_DIALOG_BYE_FAILED",
  "ERR_DIALOG_VAR_TOO_LARGE",
  "ERR_DIALOG_UNKNOWN_PROFILE",
  "ERR_DIALOG_STORE_UNWRITABLE",
  "ERR_DIALOG_STORE_CORRUPT",
  // netstring
  "ERR_NETSTRING_BAD_LENGTH",
  "ERR_NETSTRING_LENGTH_TOO_LONG",
  "ERR_NETSTRING_NO_COLON",
  "ERR_NETSTRING_NO_COMMA",
  "ERR_NETSTRING_TOO_LARGE",
  "ERR_NETSTRING_DESTROYED",
  // evapi
  "ERR_EVAPI_EMPTY_DATA",
  "ERR_EVAPI_MAX_CLIENTS",
  "ERR_EVAPI_SLOW_CLIENT",
  "ERR_EVAPI_TAG_TOO_LONG",
  "ERR_EVAPI_NO_CLIENT",
  "ERR_EVAPI_TIMEOUT",
  "ERR_EVAPI_CLIENT_LOST",
  "ERR_EVAPI_BAD_REPLY",
  "ERR_EVAPI_MESSAGE_TOO_LARGE",
  "ERR_EVAPI_EMPTY_TAG",
  "ERR_EVAPI_NOT_REQUEST_ROUTE",
  "ERR_EVAPI_IDLE_TIMEOUT",
  "ERR_EVAPI_BAD_HANDSHAKE",
  "ERR_EVAPI_HANDSHAKE_NOT_FIRST",
  "ERR_EVAPI_NOT_SUBSCRIBED",
  "ERR_EVAPI_RESUME_AHEAD",
  "ERR_EVAPI_BAD_ACK",
  "ERR_EVAPI_DUPLICATE_ACK",
  "ERR_EVAPI_RETENTION_FULL",
  "ERR_EVAPI_TOO_MANY_CONSUMERS",
  "ERR_EVAPI_CONSUMER_REPLACED",
  "ERR_EVAPI_STORE_UNWRITABLE",
  "ERR_EVAPI_STORE_CORRUPT",
  "ERR_EVAPI_BAD_PATTERN",
  "ERR_EVAPI_PATTERN_TOO_BROAD",
  "ERR_EVAPI_BAD_DECISION",
  "ERR_EVAPI_UNKNOWN_TRANSACTION",
  "ERR_EVAPI_DECIDE_FORBIDDEN",
  "ERR_EVAPI_PRODUCER_BURST",
  "ERR_EVAPI_BAD_AUTH",
  "ERR_EVAPI_AUTH_FAILED",
  "ERR_EVAPI_AUTH_TIMEOUT",
  "ERR_EVAPI_TOO_MANY_UNAUTHENTICATED",
  "ERR_EVAPI_NOT_ALLOWED",
  "ERR_EVAPI_TLS_CREDENTIALS",
  "ERR_EVAPI_TLS_HANDSHAKE",
  "ERR_EVAPI_TLS_CLIENT_CERT",
  // jsonrpcc
  "ERR_JSONRPC_NO_SERVER",
  "ERR_JSONRPC_TIMEOUT",
  "ERR_JSONRPC_REMOTE",
  "ERR_JSONRPC_BAD_RESPONSE",
  "ERR_JSONRPC_UNKNOWN_ID",
  "ERR_JSONRPC_CONNECTION_LOST",
  "ERR_JSONRPC_MAX_PENDING",
  "ERR_JSONRPC_BAD_SERVERS",
  "ERR_JSONRPC_SERVER_STALLED",
  "ERR_JSONRPC_TLS",
  // htable
  "ERR_HTABLE_UNKNOWN_TABLE",
  "ERR_HTABLE_BAD_SPEC",
  // metrics
  "ERR_METRICS_BAD_REQUEST",
  "ERR_METRICS_MAX_CONNECTIONS",
  "ERR_METRICS_REQUEST_TIMEOUT",
  // client SDK
  "ERR_CLIENT_NOT_CONNECTED",
  "ERR_CLIENT_CLOSED",
  "ERR_CLIENT_CONNECT_FAILED",
  "ERR_CLIENT_BAD_JSON",
  "ERR_CLIENT_HANDLER_THREW",
  "ERR_CLIENT_SLOW_PEER",
  "ERR_CLIENT_MAX_CONNECTIONS",
  "ERR_CLIENT_REFUSED",
  "ERR_CLIENT_EVENTS_LOST",
  "ERR_CLIENT_STORE_FAILED",
] as const;

/** A stable error code string. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Base of every error evsip throws. Match on `code`, never on the message. */
export class EvsipError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class ConfigError extends EvsipError {}
/** A Kamailio cfg evsip cannot load: `file:line:col` leads the message and is kept apart. */
export class CfgError extends EvsipError {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  constructor(code: ErrorCode, where: { file: string; line: number; col: number }, message: string) {
    super(code, `${where.file}:${where.line}:${where.col}: ${message}`);
    this.file = where.file;
    this.line = where.line;
    this.col = where.col;
  }
}
export class SipParseError extends EvsipError {}
export class TransactionError extends EvsipError {}
/** ctx.lock refused: too many route runs wait for the name (ERR_LOCK_BUSY), or the wait ran out (ERR_LOCK_TIMEOUT). */
export class LockError extends EvsipError {}
export class NetstringError extends EvsipError {}
export class EvapiError extends EvsipError {}
export class JsonRpcError extends EvsipError {
  /** The remote JSON-RPC `error` member, when the server answered with one. */
  readonly remote: unknown;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; remote?: unknown }) {
    super(code, message, options);
    this.remote = options?.remote;
  }
}

/** A coded failure result, for hot paths that must not throw on peer input. */
export interface Failure {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly detail: string;
}
