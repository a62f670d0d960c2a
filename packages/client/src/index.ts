// evsip-client (also `evsip/client`): what an external application needs to talk to evsip's (or
// Kamailio's) event API, and to be the JSON-RPC server behind jsonrpc_request. Only that: the
// helpers behind answer() stay inside, and the netstring codec has its own entry
// (`evsip-client/netstring`), which the router uses.
export { EvapiClient } from "./evapi-client.js";
export type { EvapiClientStats } from "./client-emitter.js";
export type { EvapiClientOptions, EvapiClientEvents } from "./client-options.js";
export type { AuthenticatedInfo } from "./auth-handshake.js";
export { ClientError } from "./client-error.js";
export type { ErrorCode as ClientErrorCode } from "./errors.js";
export type { ClientLogger } from "./logger.js";
export type { Framing } from "./framing.js";
export type { ReconnectOptions } from "./backoff.js";
export type { AnswerOptions } from "./answer.js";
export { decision, type Decision, type DecisionExtras, type DecisionVars } from "./decision.js";
export {
  DEFAULT_ACK_DELAY,
  type DurableOptions,
  type DurableStore,
  type DurableStats,
  type ConsumeHandler,
  type LostRange,
  type SubscribedInfo,
} from "./durable-session.js";
export { fileDurableStore } from "./file-store.js";
export { createJsonRpcServer, type JsonRpcServer, type JsonRpcServerOptions } from "./jsonrpc-server.js";
export type { JsonRpcServerStats } from "./jsonrpc-connection.js";
export {
  JsonRpcMethodError,
  JSONRPC_ERRORS,
  type JsonRpcId,
  type JsonRpcMethod,
  type JsonRpcMethods,
} from "./jsonrpc-dispatch.js";
