// The SIP message model every layer above src/sip/ programs against (RFC 3261 §7, §20, §25).
// Shapes only: the parser (parse.ts) builds SipMessage lazily from the Buffer, header values are
// decoded on first use, and edits for forwarding go through rewrite() on the original bytes.
import type { ErrorCode } from "../errors.js";

/**
 * A parsed sip:, sips:, tel: or urn: URI (RFC 3261 §19.1, RFC 3966, RFC 8141). Parameter names are
 * lower-cased.
 */
export interface SipUri {
  readonly scheme: "sip" | "sips" | "tel" | "urn";
  /** User part, unescaped as written (for tel: the number; for urn: the namespace, `service`). */
  readonly user: string | undefined;
  readonly password: string | undefined;
  /**
   * Host as written; IPv6 references keep their brackets (`[2001:db8::1]`). "" for tel:; for urn:
   * the namespace-specific string (`sos`), as Kamailio's $rd gives it.
   */
  readonly host: string;
  readonly port: number | undefined;
  /** `;name=value` parameters; a parameter without value maps to null. */
  readonly params: ReadonlyMap<string, string | null>;
  /** `?name=value` headers. */
  readonly headers: ReadonlyMap<string, string>;
  /** The URI text exactly as received. */
  readonly raw: string;
}

/** name-addr or addr-spec with header parameters (From, To, Contact, Route, Record-Route). */
export interface NameAddr {
  /** Display name without quotes/escapes, or undefined. */
  readonly displayName: string | undefined;
  readonly uri: SipUri;
  /** Header parameters after the URI (`;tag=…`), lower-cased names. */
  readonly params: ReadonlyMap<string, string | null>;
  readonly tag: string | undefined;
  readonly raw: string;
}

/** One Via value (RFC 3261 §20.42, RFC 3581 rport). */
export interface Via {
  /** Upper-cased transport: "UDP", "TCP", "TLS", "SCTP", "WS"… */
  readonly transport: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly branch: string | undefined;
  readonly received: string | undefined;
  /** undefined: no rport param; null: `;rport` without value; number: `;rport=N`. */
  readonly rport: number | null | undefined;
  readonly params: ReadonlyMap<string, string | null>;
  readonly raw: string;
}

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

/** Limits the parser enforces; each is a named param of the server (`sip.maxMessageSize`, …). */
export interface SipLimits {
  /** Largest whole message (headers + body) in bytes. */
  readonly maxMessageSize: number;
  /** Most header lines (after unfolding) in one message. */
  readonly maxHeaders: number;
  /** Longest single header line (after unfolding) in bytes. */
  readonly maxLineLength: number;
}

export const DEFAULT_SIP_LIMITS: SipLimits = Object.freeze({
  maxMessageSize: 65535,
  maxHeaders: 256,
  maxLineLength: 8192,
});

/** Edits applied to the original bytes when forwarding (never a re-stringify of the whole message). */
export interface Rewrite {
  /** New Request-URI text (requests only). */
  readonly requestUri?: string;
  /** New Max-Forwards value; the header is added when absent. */
  readonly maxForwards?: number;
  /** Remove the topmost Via value (the first of a comma list, or the whole first Via line). */
  readonly removeTopVia?: boolean;
  /** Remove the topmost Route value (loose routing, RFC 3261 §16.12). */
  readonly removeTopRoute?: boolean;
  /** Header lines (`Name: value`, no CRLF) inserted before the first header line (new Via, Record-Route). */
  readonly prepend?: readonly string[];
  /** Header lines appended after the last header line. */
  readonly append?: readonly string[];
  /** Remove every header with these names (case-insensitive, compact forms understood). */
  readonly remove?: readonly string[];
  /** Replace the body; Content-Length is rewritten to match. */
  readonly body?: Buffer | string;
}

export type ParseResult =
  { readonly ok: true; readonly msg: SipMessageLike } | { readonly ok: false; readonly code: ErrorCode; readonly detail: string };

/**
 * A parsed SIP request or response. Headers are indexed at parse time and decoded on first use;
 * typed getters throw SipParseError only when a header is malformed, and `validate()` checks the
 * mandatory ones once so the router can reject the message up front.
 */
export interface SipMessageLike {
  readonly buf: Buffer;
  readonly isRequest: boolean;
  /** Request method, or for a response the CSeq method. */
  readonly method: string;
  /** Request-URI text (requests); "" for responses. */
  readonly requestUri: string;
  /** Parsed Request-URI (requests). */
  readonly uri: SipUri;
  /** Status code (responses); 0 for requests. */
  readonly status: number;
  readonly reason: string;
  /** First value of a header (full line value, compact names understood, case-insensitive). */
  header(name: string): string | undefined;
  /** Every value of a header; comma lists are split for Via, Route, Record-Route, Contact, etc. */
  headerValues(name: string): string[];
  hasHeader(name: string): boolean;
  /** Number of header lines. */
  readonly headerCount: number;
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly callId: string;
  readonly cseq: CSeq;
  readonly vias: readonly Via[];
  readonly topVia: Via;
  readonly maxForwards: number | undefined;
  readonly contentLength: number;
  readonly body: Buffer;
  readonly routes: readonly NameAddr[];
  readonly recordRoutes: readonly NameAddr[];
  readonly contact: NameAddr | undefined;
  readonly userAgent: string | undefined;
  /** Checks Via, From, To, Call-ID, CSeq (and CSeq method = request method). */
  validate(): { ok: true } | { ok: false; code: ErrorCode; detail: string };
  /** The original bytes with the edits applied. */
  rewrite(edits: Rewrite): Buffer;
}
