// The SIP text of the load tool: the requests it sends as a UAC (INVITE, OPTIONS, ACK, BYE) and the
// few fields it reads from a response (status, top Via branch, Call-ID, CSeq, To tag, Contact,
// Record-Route). Deliberately not evsip's parser: the tool must not share code with what it measures,
// and it only needs what matching a response to its request takes.

/** Where a request goes and who sends it. */
export interface Leg {
  /** The router: host:port of the Request-URI and the destination. */
  readonly target: string;
  /** The sending socket's host:port (Via, Contact, From). */
  readonly local: string;
  /** Parameters added after the Via's branch (`;oc;oc-algo="loss"` for an RFC 7339 client). */
  readonly viaParams?: string;
}

/** One dialog-forming or out-of-dialog request of the tool. */
export interface RequestSpec {
  readonly method: "INVITE" | "OPTIONS";
  readonly branch: string;
  readonly callId: string;
  readonly fromTag: string;
}

/** Builds the initial request (CSeq 1); the Request-URI user is "load" so $rU is set. */
export function initialRequest(leg: Leg, r: RequestSpec): Buffer {
  return Buffer.from(
    `${r.method} sip:load@${leg.target} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${leg.local};branch=${r.branch}${leg.viaParams ?? ""}\r\n` +
      `Max-Forwards: 70\r\n` +
      `From: <sip:loadtool@${leg.local}>;tag=${r.fromTag}\r\n` +
      `To: <sip:load@${leg.target}>\r\n` +
      `Call-ID: ${r.callId}\r\n` +
      `CSeq: 1 ${r.method}\r\n` +
      `Contact: <sip:loadtool@${leg.local}>\r\n` +
      `Content-Length: 0\r\n\r\n`,
    "latin1",
  );
}

/** An in-dialog ACK or BYE after an INVITE's final, or the ACK of a non-2xx final (same branch). */
export interface FollowSpec {
  readonly method: "ACK" | "BYE";
  readonly cseq: number;
  readonly branch: string;
  readonly callId: string;
  readonly fromTag: string;
  readonly toTag: string | undefined;
  /** Request-URI: the remote Contact, or the initial Request-URI when there is none. */
  readonly uri: string;
  /** Route set, in the order to send (a UAC reverses Record-Route). */
  readonly routes: readonly string[];
}

export function followRequest(leg: Leg, f: FollowSpec): Buffer {
  let route = "";
  for (const r of f.routes) route += `Route: ${r}\r\n`;
  return Buffer.from(
    `${f.method} ${f.uri} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${leg.local};branch=${f.branch}${leg.viaParams ?? ""}\r\n` +
      route +
      `Max-Forwards: 70\r\n` +
      `From: <sip:loadtool@${leg.local}>;tag=${f.fromTag}\r\n` +
      `To: <sip:load@${leg.target}>${f.toTag === undefined ? "" : `;tag=${f.toTag}`}\r\n` +
      `Call-ID: ${f.callId}\r\n` +
      `CSeq: ${f.cseq} ${f.method}\r\n` +
      `Content-Length: 0\r\n\r\n`,
    "latin1",
  );
}

/** What the tool reads from a response. */
export interface ResponseInfo {
  readonly status: number;
  readonly branch: string | undefined;
  readonly callId: string | undefined;
  readonly cseq: number;
  readonly cseqMethod: string;
  readonly toTag: string | undefined;
  /** The Contact URI without angle brackets or parameters outside them. */
  readonly contact: string | undefined;
  /** Every Record-Route value, in message order, one entry per URI. */
  readonly recordRoutes: string[];
}

const BRANCH = Buffer.from("branch", "latin1");
const OC = Buffer.from("oc", "latin1");
const OC_VALIDITY = Buffer.from("oc-validity", "latin1");
const OC_SEQ = Buffer.from("oc-seq", "latin1");
export const TAG = Buffer.from("tag", "latin1");
export const RPORT = Buffer.from("rport", "latin1");

/** Ends a parameter value: `;` `,` `>` or whitespace. */
function endsValue(c: number | undefined): boolean {
  return c === 0x3b || c === 0x2c || c === 0x3e || c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/**
 * The index just past the first `;name` at or after `from` in buf[from, e) that is a whole
 * parameter name (`;`, spaces allowed after it, `name` lower case, matched in any case, then `=`
 * or the end of the parameter); -1 when there is none.
 */
export function findParam(buf: Buffer, from: number, e: number, name: Buffer): number {
  for (let i = buf.indexOf(0x3b, from); i >= 0 && i < e; i = buf.indexOf(0x3b, i + 1)) {
    let k = i + 1;
    while (k < e && isWs(buf[k])) k++;
    let j = 0;
    while (j < name.length && k + j < e && ((buf[k + j] ?? 0) | 0x20) === name[j]) j++;
    const after = k + j;
    if (j === name.length && (after >= e || buf[after] === 0x3d || endsValue(buf[after]))) return after;
  }
  return -1;
}

/** The value of the first `;name=value` in buf[s, e) with a value (up to `;` `,` `>` or whitespace). */
export function param(buf: Buffer, s: number, e: number, name: Buffer): string | undefined {
  for (let at = findParam(buf, s, e, name); at >= 0; at = findParam(buf, at, e, name)) {
    if (buf[at] !== 0x3d) continue;
    let ve = at + 1;
    while (ve < e && !endsValue(buf[ve])) ve++;
    if (ve > at + 1) return buf.toString("latin1", at + 1, ve);
  }
  return undefined;
}

/** The end of the first comma-separated element of buf[s, e) (a comma outside <…> and quotes). */
function firstElementEnd(buf: Buffer, s: number, e: number): number {
  let depth = 0;
  let quoted = false;
  for (let i = s; i < e; i++) {
    const c = buf[i];
    if (c === 0x22) quoted = !quoted;
    else if (!quoted && c === 0x3c) depth++;
    else if (!quoted && c === 0x3e) depth--;
    else if (!quoted && depth === 0 && c === 0x2c) return i;
  }
  return e;
}

/** The comma-separated elements of buf[s, e), each trimmed, empty ones left out. */
function elements(buf: Buffer, s: number, e: number): string[] {
  const out: string[] = [];
  for (let from = s; from <= e;) {
    const end = firstElementEnd(buf, from, e);
    const one = buf.toString("latin1", from, end).trim();
    if (one !== "") out.push(one);
    from = end + 1;
  }
  return out;
}

function uriOf(nameAddr: string): string {
  const lt = nameAddr.indexOf("<");
  if (lt < 0) return nameAddr.split(";")[0]?.trim() ?? nameAddr;
  return nameAddr.slice(lt + 1, nameAddr.indexOf(">", lt));
}

const HEAD_END = Buffer.from("\r\n\r\n", "latin1");
const STATUS_LINE_START = Buffer.from("SIP/2.0 ", "latin1");
/** The CSeq methods the tool sends, returned as constants: a response then costs no method string. */
const METHODS = ["INVITE", "OPTIONS", "BYE", "ACK"].map((m) => ({ m, b: Buffer.from(m, "latin1") }));

/** The headers the tool reads or copies, by lower-case long and compact name. */
export const H = { Other: 0, Via: 1, CallId: 2, CSeq: 3, To: 4, Contact: 5, RecordRoute: 6, From: 7 } as const;
export type H = (typeof H)[keyof typeof H];
const NAMES: readonly (readonly [string, H])[] = [
  ["via", H.Via],
  ["v", H.Via],
  ["from", H.From],
  ["f", H.From],
  ["call-id", H.CallId],
  ["i", H.CallId],
  ["cseq", H.CSeq],
  ["to", H.To],
  ["t", H.To],
  ["contact", H.Contact],
  ["m", H.Contact],
  ["record-route", H.RecordRoute],
];

export function isWs(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09;
}

/** Which header buf[s, e) names (any case). */
function headerOf(buf: Buffer, s: number, e: number): H {
  for (const [name, h] of NAMES) {
    if (e - s !== name.length) continue;
    let i = 0;
    while (i < name.length && ((buf[s + i] ?? 0) | 0x20) === name.charCodeAt(i)) i++;
    if (i === name.length) return h;
  }
  return H.Other;
}

function cseqMethod(buf: Buffer, s: number, e: number): string {
  for (const { m, b } of METHODS) if (e - s === b.length && buf.compare(b, 0, b.length, s, e) === 0) return m;
  return buf.toString("latin1", s, e);
}

/**
 * The header lines of a message's head, one at a time, as byte offsets into buf: the line without
 * its CRLF, the name's kind, the value trimmed. The tool's receiving thread reads every answer and
 * its UAS every request with it, where a scavenge delays the arrival time of what comes in
 * meanwhile: so nothing is decoded until a caller asks for a value.
 */
export class HeaderLines {
  /** The current line's header (H.Other for an unknown name or a line without a colon). */
  h: H = H.Other;
  /** The current line, without its line end. */
  lineStart = 0;
  lineEnd = 0;
  /** The current value, whitespace trimmed. */
  valueStart = 0;
  valueEnd = 0;
  readonly buf: Buffer;
  readonly #headEnd: number;
  #next: number;

  constructor(buf: Buffer) {
    this.buf = buf;
    const found = buf.indexOf(HEAD_END);
    this.#headEnd = found < 0 ? buf.length : found + 2;
    this.#next = buf.indexOf(0x0a) + 1; // after the start line
  }

  /** Moves to the next header line; false past the last one. */
  next(): boolean {
    const buf = this.buf;
    const ls = this.#next;
    if (ls <= 0 || ls >= this.#headEnd) return false;
    const nl = buf.indexOf(0x0a, ls);
    this.#next = nl < 0 || nl >= this.#headEnd ? this.#headEnd : nl + 1;
    let le = this.#next;
    while (le > ls && (buf[le - 1] === 0x0a || buf[le - 1] === 0x0d)) le--;
    let colon = ls;
    while (colon < le && buf[colon] !== 0x3a) colon++;
    let ne = colon;
    while (ne > ls && isWs(buf[ne - 1])) ne--;
    let vs = colon + 1;
    while (vs < le && isWs(buf[vs])) vs++;
    let ve = le;
    while (ve > vs && isWs(buf[ve - 1])) ve--;
    this.h = colon < le && ne > ls ? headerOf(buf, ls, ne) : H.Other;
    this.lineStart = ls;
    this.lineEnd = le;
    this.valueStart = vs;
    this.valueEnd = ve;
    return true;
  }

  /** The current value as a string. */
  value(): string {
    return this.buf.toString("latin1", this.valueStart, this.valueEnd);
  }

  /** The end of the current value's first comma-separated element. */
  firstElementEnd(): number {
    return firstElementEnd(this.buf, this.valueStart, this.valueEnd);
  }
}

/** Parses a response's status line and the headers above; undefined for a request or garbage. */
export function parseResponse(buf: Buffer): ResponseInfo | undefined {
  if (buf.length < 11 || buf.compare(STATUS_LINE_START, 0, 8, 0, 8) !== 0) return undefined;
  let status = 0;
  for (let i = 8; i < 11; i++) {
    const d = (buf[i] ?? 0) - 0x30;
    if (d < 0 || d > 9) return undefined;
    status = status * 10 + d;
  }
  if (status < 100 || status > 699) return undefined;
  let branch: string | undefined;
  let callId: string | undefined;
  let cseq = Number.NaN;
  let method = "";
  let toTag: string | undefined;
  let contact: string | undefined;
  const recordRoutes: string[] = [];
  const l = new HeaderLines(buf);
  while (l.next()) {
    const { h, valueStart: vs, valueEnd: ve } = l;
    if (h === H.Via && branch === undefined) branch = param(buf, vs, l.firstElementEnd(), BRANCH);
    else if (h === H.CallId) callId = l.value();
    else if (h === H.CSeq) {
      let i = vs;
      let n = 0;
      while (i < ve && (buf[i] ?? 0) >= 0x30 && (buf[i] ?? 0) <= 0x39) n = n * 10 + (buf[i++] ?? 0) - 0x30;
      // A number, whitespace, a method: anything else ("1INVITE") is no CSeq, as it never matches.
      if (i === vs || (i < ve && !isWs(buf[i]))) {
        cseq = Number.NaN;
        method = "";
        continue;
      }
      cseq = n;
      while (i < ve && isWs(buf[i])) i++;
      let me = i;
      while (me < ve && !isWs(buf[me])) me++;
      method = cseqMethod(buf, i, me);
    } else if (h === H.To) toTag = param(buf, vs, ve, TAG);
    else if (h === H.Contact && contact === undefined) {
      const first = buf.toString("latin1", vs, l.firstElementEnd()).trim();
      if (first !== "") contact = uriOf(first);
    } else if (h === H.RecordRoute) recordRoutes.push(...elements(buf, vs, ve));
  }
  return { status, branch, callId, cseq, cseqMethod: method, toTag, contact, recordRoutes };
}

/** RFC 7339 feedback in a response's top Via: the reduction asked (%), for how long (ms), its sequence. */
export interface OcFeedback {
  readonly reduction: number;
  readonly validityMs: number;
  readonly seq: number;
}

/**
 * The feedback of a response's top Via, or undefined when it has none (a valueless `oc` is the
 * tool's own, echoed back). Read only by runs with --oc: other runs pay nothing for it.
 */
export function ocFeedback(buf: Buffer): OcFeedback | undefined {
  const l = new HeaderLines(buf);
  while (l.next()) {
    if (l.h !== H.Via) continue;
    const e = l.firstElementEnd();
    const reduction = Number(param(buf, l.valueStart, e, OC));
    if (!(reduction >= 0 && reduction <= 100)) return undefined;
    // evsip always sends oc-validity; without one the tool applies a feedback for 500 ms.
    const validity = Number(param(buf, l.valueStart, e, OC_VALIDITY) ?? 500);
    return { reduction, validityMs: validity >= 0 ? validity : 500, seq: Number(param(buf, l.valueStart, e, OC_SEQ) ?? 0) || 0 };
  }
  return undefined;
}

/**
 * The identifiers of one run's requests. Request i's Call-ID, From tag and branches carry the run id
 * and i, so a response names its request without a table (the sending thread and the receiving one
 * share no map), and an answer to an earlier run is a stray.
 */
export class RunIds {
  readonly runId: string;
  readonly #prefix: string;

  constructor(runId: string) {
    this.runId = runId;
    this.#prefix = `z9hG4bK${runId}x`;
  }

  callId(i: number | typeof GAP): string {
    return `${this.runId}-${i}`;
  }

  /** callId(i) === callId, without building callId(i) (this runs for every response). */
  isCallIdOf(callId: string | undefined, i: number): boolean {
    const p = this.runId.length + 1;
    if (callId === undefined || callId.length !== p + digitCount(i) || !callId.startsWith(this.runId)) return false;
    return callId.charCodeAt(p - 1) === 0x2d && decimal(callId, p, callId.length) === i;
  }

  fromTag(i: number | typeof GAP): string {
    return `f${this.runId}${i}`;
  }

  /** `what`: "i" the initial request (and the ACK of its non-2xx final), "a" the ACK of a 2xx, "b" the BYE. */
  branch(i: number | typeof GAP, what: "i" | "a" | "b"): string {
    return `${this.#prefix}${i}${what}`;
  }

  /**
   * The index of the initial request `branch` belongs to; undefined for a BYE's or another run's.
   * Read digit by digit: this runs for every answer.
   */
  initialOf(branch: string): number | undefined {
    const p = this.#prefix.length;
    const digits = branch.length - p - 1;
    if (digits < 1 || digits > 15 || !branch.startsWith(this.#prefix) || branch.charCodeAt(branch.length - 1) !== 0x69) {
      return undefined;
    }
    const n = decimal(branch, p, branch.length - 1);
    return n < 0 ? undefined : n;
  }

  /** The initial request of run index i. */
  initial(leg: Leg, method: RequestSpec["method"], i: number): Buffer {
    return initialRequest(leg, { method, branch: this.branch(i, "i"), callId: this.callId(i), fromTag: this.fromTag(i) });
  }

  /** Writes the initial requests of one leg and method (for the pacer, which sends one per request). */
  initialWriter(leg: Leg, method: RequestSpec["method"]): InitialWriter {
    return new InitialWriter(
      initialRequest(leg, { method, branch: this.branch(GAP, "i"), callId: this.callId(GAP), fromTag: this.fromTag(GAP) }),
    );
  }
}

/** Where run index i's digits go in a request template (never in a run id or an address). */
const GAP = "\u0000";

/** The decimal number text[s, e) spells; -1 when a character is not a digit. */
function decimal(text: string, s: number, e: number): number {
  let n = 0;
  for (let k = s; k < e; k++) {
    const d = text.charCodeAt(k) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function digitCount(i: number): number {
  let d = 1;
  for (let n = i; n >= 10; n = Math.floor(n / 10)) d++;
  return d;
}

/**
 * RunIds.initial()'s bytes without its strings: the request is made once with a gap for every
 * place i goes, and each request is the pieces with i's digits between them, written into one
 * buffer. The sending thread makes one per request, and its scavenges delay the sends.
 */
export class InitialWriter {
  readonly #pieces: Buffer[] = [];
  readonly #fixed: number;

  constructor(template: Buffer) {
    let from = 0;
    for (let at = template.indexOf(0); at >= 0; at = template.indexOf(0, from)) {
      this.#pieces.push(template.subarray(from, at));
      from = at + 1;
    }
    this.#pieces.push(template.subarray(from));
    this.#fixed = template.length - (this.#pieces.length - 1);
  }

  /** The request of run index i (a non-negative integer). */
  build(i: number): Buffer {
    const d = digitCount(i);
    const out = Buffer.allocUnsafe(this.#fixed + d * (this.#pieces.length - 1));
    let at = 0;
    for (let k = 0; k < this.#pieces.length; k++) {
      if (k > 0) {
        for (let n = i, j = at + d - 1; j >= at; j--, n = Math.floor(n / 10)) out[j] = 0x30 + (n % 10);
        at += d;
      }
      at += (this.#pieces[k] as Buffer).copy(out, at);
    }
    return out;
  }
}
