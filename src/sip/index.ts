// What the layers above use of the SIP layer: parser, message, URI parser, response/request
// builders and id generation (the header, Via and CSeq parsers stay inside). Pure: no sockets, no timers (docs/architecture.md).
export * from "./types.js";
export { parseMessage } from "./parse.js";
export { salvageRequestHead, SALVAGEABLE } from "./salvage.js";
export { SipMessage } from "./message.js";
export { namesHost, parseUri } from "./uri.js";
export { parseNameAddr } from "./name-addr.js";
export { splitList } from "./params.js";
export { buildResponse, rawLines } from "./build-response.js";
export { hasLineEnd } from "./wire-text.js";
export { buildCancel, buildAckForNon2xx, buildInDialogRequest } from "./build-request.js";
export { IdGenerator } from "./ids.js";
