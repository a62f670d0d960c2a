// Public surface of the SIP layer: parser, message, URI/name-addr/Via/CSeq parsers, rewrite,
// response/request builders and id generation. Pure: no sockets, no timers (ARCHITECTURE.md).
export * from "./types.js";
export { parseMessage, type ParseOptions } from "./parse.js";
export { SipMessage } from "./message.js";
export { parseUri, formatUri } from "./uri.js";
export { parseNameAddr, quoteDisplayName } from "./name-addr.js";
export { parseVia } from "./via.js";
export { parseCSeq, isToken, MAX_CSEQ } from "./cseq.js";
export { canonicalHeaderName, headerKeyName, COMPACT_FORMS, LIST_HEADERS } from "./header-names.js";
export { splitList } from "./params.js";
export { buildResponse, type ResponseOptions } from "./build-response.js";
export { buildCancel, buildAckForNon2xx, buildInDialogRequest, type InDialogRequestSpec } from "./build-request.js";
export { IdGenerator, generateTag, generateBranch, BRANCH_COOKIE } from "./ids.js";
