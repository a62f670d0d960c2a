// SipMessage: the parsed message handed to routes (RFC 3261 §7). Built by parseMessage from byte
// offsets; every typed getter decodes its header on first use and caches the result. Getters throw
// SipParseError (with a code) on malformed or missing headers; validate() turns that into a result.
import { type ErrorCode, SipParseError } from "../errors.js";
import type { CSeq, NameAddr, Rewrite, SipMessageLike, SipUri, Via } from "./types.js";
import type { StartLine } from "./start-line.js";
import { KEYS, makeHeaderKey } from "./header-names.js";
import { HeaderTable } from "./header-table.js";
import { parseUri } from "./uri.js";
import { parseNameAddr } from "./name-addr.js";
import { parseVia } from "./via.js";
import { parseCSeq } from "./cseq.js";
import { validateMessage } from "./validate.js";
import { applyRewrite } from "./rewrite.js";
import { knownSpelling } from "./known-spelling.js";

/**
 * The methods of RFC 3261 and its common extensions, as constants: a method compared or used as a
 * key many times per message is then one shared string instead of a fresh slice per message.
 */
const METHODS: readonly string[] = [
  "INVITE",
  "ACK",
  "BYE",
  "CANCEL",
  "OPTIONS",
  "REGISTER",
  "PRACK",
  "UPDATE",
  "INFO",
  "MESSAGE",
  "SUBSCRIBE",
  "NOTIFY",
  "REFER",
  "PUBLISH",
];

function bad(code: ErrorCode, detail: string): never {
  throw new SipParseError(code, detail);
}

/** True when s holds any JavaScript whitespace (what /\s/ matches). */
function hasWhitespace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) {
      if (c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x7f && /\s/.test(s[i] ?? ""))) return true;
    }
  }
  return false;
}

/** 1–10 ASCII digits as a number; -1 otherwise (Max-Forwards). */
function parseDigits(s: string): number {
  if (s.length === 0 || s.length > 10) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** A parsed SIP request or response over its original bytes. */
export class SipMessage implements SipMessageLike {
  readonly buf: Buffer;
  readonly isRequest: boolean;
  readonly status: number;
  /** Byte range of the Request-URI in buf (requests), for rewrite(). */
  readonly uriStart: number;
  readonly uriEnd: number;
  /** First byte of the start line (leading keep-alive CRLFs skipped) and of the first header line. */
  readonly lineStart: number;
  readonly headerStart: number;
  /** First byte of the body (just after the empty line) and the byte after it. */
  readonly bodyStart: number;
  readonly bodyEnd: number;
  /** Header offsets; decoding happens on demand. */
  readonly headers: HeaderTable;
  private readonly methodEnd: number;
  private _method: string | undefined;
  private readonly reasonStart: number;
  private readonly reasonEnd: number;
  private _requestUri: string | undefined;
  private readonly _contentLength: number;
  private _uri: SipUri | undefined;
  private _from: NameAddr | undefined;
  private _to: NameAddr | undefined;
  private _callId: string | undefined;
  private _cseq: CSeq | undefined;
  private _vias: readonly Via[] | undefined;
  private _routes: readonly NameAddr[] | undefined;
  private _recordRoutes: readonly NameAddr[] | undefined;
  private _contacts: readonly NameAddr[] | undefined;
  /** Decoded Max-Forwards: -1 not yet read, -2 absent (validate, maxfwd and rewrite all read it). */
  private _maxForwards = -1;

  constructor(
    buf: Buffer,
    start: StartLine,
    idx: number[],
    offsets: { lineStart: number; headerStart: number; bodyStart: number; bodyEnd: number },
    contentLength: number,
  ) {
    this.buf = buf;
    this.lineStart = offsets.lineStart;
    this.headerStart = offsets.headerStart;
    this.isRequest = start.isRequest;
    this.methodEnd = start.methodEnd;
    this.uriStart = start.uriStart;
    this.uriEnd = start.uriEnd;
    this.status = start.status;
    this.reasonStart = start.reasonStart;
    this.reasonEnd = start.reasonEnd;
    this.headers = new HeaderTable(buf, idx, offsets.bodyStart);
    this.bodyStart = offsets.bodyStart;
    this.bodyEnd = offsets.bodyEnd;
    this._contentLength = contentLength;
  }

  /** Request method, or for a response the CSeq method ("" when CSeq is malformed). */
  get method(): string {
    if (this.isRequest) {
      const text = this.headers.text;
      return (this._method ??=
        knownSpelling(text, this.lineStart, this.methodEnd, METHODS) ?? text.slice(this.lineStart, this.methodEnd));
    }
    const v = this.headers.first(KEYS.cseq);
    return v === undefined ? "" : (parseCSeq(v)?.method ?? "");
  }

  /** Request-URI text (requests); "" for responses. */
  get requestUri(): string {
    return (this._requestUri ??= this.isRequest ? this.headers.text.slice(this.uriStart, this.uriEnd) : "");
  }

  /** Reason phrase (responses); "" for requests. */
  get reason(): string {
    return this.reasonEnd > this.reasonStart ? this.headers.text.slice(this.reasonStart, this.reasonEnd) : "";
  }

  get uri(): SipUri {
    if (this._uri !== undefined) return this._uri;
    if (!this.isRequest) bad("ERR_SIP_BAD_URI", "a response has no Request-URI");
    return (this._uri = parseUri(this.requestUri) ?? bad("ERR_SIP_BAD_URI", `bad Request-URI ${this.requestUri}`));
  }

  header(name: string): string | undefined {
    return this.headers.first(makeHeaderKey(name));
  }

  headerValues(name: string): string[] {
    return this.headers.values(makeHeaderKey(name));
  }

  /** The value of every line of a header, comma lists not split (for copying lines verbatim). */
  headerLines(name: string): string[] {
    const key = makeHeaderKey(name);
    const out: string[] = [];
    for (let i = this.headers.find(key); i >= 0; i = this.headers.find(key, i + 1)) out.push(this.headers.valueAt(i));
    return out;
  }

  hasHeader(name: string): boolean {
    return this.headers.find(makeHeaderKey(name)) >= 0;
  }

  get headerCount(): number {
    return this.headers.count;
  }

  private nameAddr(key: typeof KEYS.from, what: string): NameAddr {
    const v = this.headers.first(key) ?? bad("ERR_SIP_MISSING_HEADER", `no ${what} header`);
    return parseNameAddr(v) ?? bad("ERR_SIP_BAD_NAME_ADDR", `bad ${what}: ${v}`);
  }

  private nameAddrList(key: typeof KEYS.route, what: string): NameAddr[] {
    return this.headers.values(key).map((v) => parseNameAddr(v) ?? bad("ERR_SIP_BAD_NAME_ADDR", `bad ${what}: ${v}`));
  }

  get from(): NameAddr {
    return (this._from ??= this.nameAddr(KEYS.from, "From"));
  }

  get to(): NameAddr {
    return (this._to ??= this.nameAddr(KEYS.to, "To"));
  }

  get callId(): string {
    if (this._callId !== undefined) return this._callId;
    const v = this.headers.first(KEYS.callId) ?? bad("ERR_SIP_MISSING_HEADER", "no Call-ID header");
    if (v.length === 0 || hasWhitespace(v)) bad("ERR_SIP_BAD_HEADER", "empty or spaced Call-ID");
    return (this._callId = v);
  }

  get cseq(): CSeq {
    if (this._cseq !== undefined) return this._cseq;
    const v = this.headers.first(KEYS.cseq) ?? bad("ERR_SIP_MISSING_HEADER", "no CSeq header");
    return (this._cseq = parseCSeq(v) ?? bad("ERR_SIP_BAD_CSEQ", `bad CSeq: ${v}`));
  }

  /** Every Via value, top first; [] when there is none. */
  get vias(): readonly Via[] {
    return (this._vias ??= this.headers.values(KEYS.via).map((v) => parseVia(v) ?? bad("ERR_SIP_BAD_VIA", `bad Via: ${v}`)));
  }

  get topVia(): Via {
    return this.vias[0] ?? bad("ERR_SIP_MISSING_HEADER", "no Via header");
  }

  get maxForwards(): number | undefined {
    if (this._maxForwards >= 0) return this._maxForwards;
    if (this._maxForwards === -2) return undefined;
    const v = this.headers.first(KEYS.maxForwards);
    if (v === undefined) {
      this._maxForwards = -2;
      return undefined;
    }
    const n = parseDigits(v);
    if (n < 0 || n > 255) bad("ERR_SIP_BAD_HEADER", `bad Max-Forwards: ${v}`);
    return (this._maxForwards = n);
  }

  /** Content-Length as framed: the header's value, or the body length when it is absent. */
  get contentLength(): number {
    return this._contentLength >= 0 ? this._contentLength : this.bodyEnd - this.bodyStart;
  }

  /** The body bytes (a view on buf, no copy). */
  get body(): Buffer {
    return this.buf.subarray(this.bodyStart, this.bodyEnd);
  }

  get routes(): readonly NameAddr[] {
    return (this._routes ??= this.nameAddrList(KEYS.route, "Route"));
  }

  get recordRoutes(): readonly NameAddr[] {
    return (this._recordRoutes ??= this.nameAddrList(KEYS.recordRoute, "Record-Route"));
  }

  /** Every Contact value; `Contact: *` (REGISTER) yields [] and sets isContactStar. */
  get contacts(): readonly NameAddr[] {
    if (this._contacts !== undefined) return this._contacts;
    if (this.isContactStar) return (this._contacts = []);
    return (this._contacts = this.nameAddrList(KEYS.contact, "Contact"));
  }

  /** True for `Contact: *` (RFC 3261 §10.2.2). */
  get isContactStar(): boolean {
    return this.headers.first(KEYS.contact)?.trim() === "*";
  }

  /** First Contact value, or undefined when there is none or it is `*`. */
  get contact(): NameAddr | undefined {
    return this.contacts[0];
  }

  get userAgent(): string | undefined {
    return this.headers.first(KEYS.userAgent);
  }

  validate(): { ok: true } | { ok: false; code: ErrorCode; detail: string } {
    return validateMessage(this);
  }

  rewrite(edits: Rewrite): Buffer {
    return applyRewrite(this, edits);
  }
}
