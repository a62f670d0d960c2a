// Public surface of the transport layer (RFC 3261 §18): listeners, sending, reply targets,
// the Content-Length stream framer.
export { parseListen, formatListen, normalizeHost } from "./listen-spec.js";
export type { ListenSpec, Proto } from "./listen-spec.js";
export type {
  Source,
  Destination,
  BoundListener,
  TransportOptions,
  TransportStats,
  ParseFn,
  MessageHandler,
  ParseErrorHandler,
  SendErrorHandler,
} from "./types.js";
export { TransportLayer } from "./transport-layer.js";
export { StreamFramer } from "./stream-framer.js";
export type { FramerHandlers } from "./stream-framer.js";
export { findContentLength } from "./content-length.js";
export { replyDestination, responseTarget, protoOfVia, SIP_DEFAULT_PORT } from "./reply-target.js";
