// The netstring layer's public surface: streaming decoder, encoder, raw-mode line splitter.
// Imports only src/errors.ts; used by the evapi and jsonrpcc modules and the client SDK.
export { NetstringDecoder, DEFAULT_MAX_MESSAGE_SIZE, type PushOk } from "./decoder.js";
export { encodeNetstring, netstringHeader, NETSTRING_TRAILER, SharedFrame } from "./encode.js";
export { LineSplitter } from "./line-splitter.js";
