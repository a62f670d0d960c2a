// The stable codes of evsip-client (the netstring codec's and the SDK's) and the coded failure the
// codec returns instead of throwing on peer garbage. evsip's catalogue (docs/errors.md, the
// router's src/errors.ts) lists the same codes; test/errors.test.ts checks that it holds these.

/** Every code this package uses, netstring codec first. */
export const CLIENT_ERROR_CODES = [
  "ERR_NETSTRING_BAD_LENGTH",
  "ERR_NETSTRING_LENGTH_TOO_LONG",
  "ERR_NETSTRING_NO_COLON",
  "ERR_NETSTRING_NO_COMMA",
  "ERR_NETSTRING_TOO_LARGE",
  "ERR_NETSTRING_DESTROYED",
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
  "ERR_CONFIG_INVALID",
] as const;

/** A stable error code of this package. */
export type ErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/** A coded failure result, for hot paths that must not throw on peer input. */
export interface Failure {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly detail: string;
}
