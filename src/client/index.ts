// The client SDK, published as `evsip/client`: what an external application needs to talk to
// evsip's (or Kamailio's) event API, and to be the JSON-RPC server behind jsonrpc_request.
export { EvapiClient, DEFAULT_MAX_BUFFERED_BYTES } from "./evapi-client.js";
export type { EvapiClientStats } from "./client-emitter.js";
export type { EvapiClientOptions, EvapiClientEvents } from "./client-options.js";
export { ClientError } from "./client-error.js";
export type { Framing } from "./framing.js";
export type { ReconnectOptions } from "./backoff.js";
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
export { echoCorrelation, DEFAULT_ANSWER_FIELDS, DEFAULT_MAX_CONCURRENT_ANSWERS, type AnswerOptions } from "./answer.js";
export { createJsonRpcServer, type JsonRpcServer, type JsonRpcServerOptions } from "./jsonrpc-server.js";
export type { JsonRpcServerStats } from "./jsonrpc-connection.js";
export {
  JsonRpcMethodError,
  JSONRPC_ERRORS,
  type JsonRpcId,
  type JsonRpcMethod,
  type JsonRpcMethods,
} from "./jsonrpc-dispatch.js";
export { encodeNetstring, NetstringDecoder, SharedFrame } from "../netstring/index.js";
