// buildResponse: a response to a request (RFC 3261 §8.2.6.2, §16.7 for a proxy's local replies):
// every Via line copied in order, From, To (a To tag added when asked and absent), Call-ID, CSeq,
// Record-Route only for 1xx/2xx when copyRecordRoute (§12.1.1), then Server and Content-Length.
import type { SipMessageLike } from "./types.js";
import { type HeaderKey, KEYS } from "./header-names.js";
import { FOLDED, VALUE_END, VALUE_START } from "./header-table.js";
import { SipMessage } from "./message.js";
import { endsLine } from "./wire-text.js";

/** Options of buildResponse. */
export interface ResponseOptions {
  /** Tag added to To when the request's To has none (needed for every non-100 UAS reply). */
  readonly toTag?: string;
  /** Extra header lines (`Name: value`, no CRLF). */
  readonly headers?: readonly string[];
  readonly body?: Buffer | string;
  readonly contentType?: string;
  /** Copy Record-Route into 101–299 replies (a UAS creating a dialog). */
  readonly copyRecordRoute?: boolean;
  /** Server header value; "" omits the header. Default "evsip". */
  readonly server?: string;
}

/**
 * Makes app-supplied text one line on the wire, so that it cannot inject header lines: each run of
 * characters that would go out as CR or LF becomes one space (U+010A, say, would be written as LF).
 */
function oneLine(text: string): string {
  let i = 0;
  while (i < text.length && !endsLine(text.charCodeAt(i))) i++;
  if (i === text.length) return text;
  let out = text.slice(0, i);
  let inRun = false;
  for (; i < text.length; i++) {
    if (!endsLine(text.charCodeAt(i))) {
      out += text[i];
      inRun = false;
    } else if (!inRun) {
      out += " ";
      inRun = true;
    }
  }
  return out;
}

/**
 * The response head is written piece by piece into one scratch buffer and copied out once: joining
 * it as a string first made a chain of intermediate strings per response, the largest allocation a
 * locally answered call made (measured with the sampling heap profiler under load). Header lines
 * copied from a parsed request go byte for byte, without a string in between.
 */
class HeadWriter {
  private static scratch = Buffer.allocUnsafeSlow(16_384);
  private pos = 0;

  /** The scratch buffer with room for n more bytes. */
  private room(n: number): Buffer {
    let buf = HeadWriter.scratch;
    if (this.pos + n > buf.length) {
      const bigger = Buffer.allocUnsafeSlow(2 * (this.pos + n));
      buf.copy(bigger, 0, 0, this.pos);
      buf = HeadWriter.scratch = bigger;
    }
    return buf;
  }

  /**
   * Appends text, byte for byte (latin1: header values are decoded that way). Short text goes by
   * loop: Buffer#write is a call into the runtime (~70 ns), and a head is a dozen short pieces.
   */
  put(text: string): this {
    const n = text.length;
    const buf = this.room(n);
    if (n > 64) {
      this.pos += buf.write(text, this.pos, "latin1");
      return this;
    }
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = text.charCodeAt(i) & 0xff;
    this.pos = pos;
    return this;
  }

  /**
   * Appends src[start, end). A header value is short, and Buffer#copy of part of a buffer makes a
   * typed-array view per call (as much garbage as the string it replaces), so short ones go by loop.
   */
  putBytes(src: Buffer, start: number, end: number): this {
    const buf = this.room(end - start);
    if (end - start > 256) {
      this.pos += src.copy(buf, this.pos, start, end);
      return this;
    }
    let pos = this.pos;
    for (let i = start; i < end; i++) buf[pos++] = src[i] as number;
    this.pos = pos;
    return this;
  }

  /** The head followed by body, in a buffer of its own. */
  finish(body: Buffer | undefined): Buffer {
    const bodyLength = body?.length ?? 0;
    const out = Buffer.allocUnsafe(this.pos + bodyLength);
    HeadWriter.scratch.copy(out, 0, 0, this.pos);
    if (body !== undefined && bodyLength > 0) body.copy(out, this.pos);
    return out;
  }
}

/**
 * Writes `Name: value` CRLF for the first line of a header, or for every line (`every`), as the
 * request has it, with `;tag=<tag>` added when a tag is given. From a parsed request the value's
 * bytes are copied (a folded line is unfolded first, as header() does); another SipMessageLike goes
 * through its strings.
 */
function copyLines(w: HeadWriter, req: SipMessageLike, prefix: string, key: HeaderKey, every: boolean, tag?: string): void {
  if (!(req instanceof SipMessage)) {
    const values = every ? rawLines(req, key.name) : [req.header(key.name)];
    for (const v of values) if (v !== undefined) endLine(w.put(prefix).put(v), tag);
    return;
  }
  const t = req.headers;
  for (let i = t.find(key); i >= 0; i = every ? t.find(key, i + 1) : -1) {
    w.put(prefix);
    if (t.at(i, FOLDED) === 1) w.put(t.valueAt(i));
    else w.putBytes(t.buf, t.at(i, VALUE_START), t.at(i, VALUE_END));
    endLine(w, tag);
  }
}

function endLine(w: HeadWriter, tag: string | undefined): void {
  if (tag !== undefined) w.put(";tag=").put(tag);
  w.put("\r\n");
}

/**
 * Builds the bytes of a response to `req`.
 * @example buildResponse(msg, 404, "Not Found", { toTag: ids.generateTag() })
 */
export function buildResponse(req: SipMessageLike, status: number, reason: string, opts: ResponseOptions = {}): Buffer {
  const w = new HeadWriter().put(`SIP/2.0 ${status} `).put(oneLine(reason)).put("\r\n");
  copyLines(w, req, "Via: ", KEYS.via, true);
  copyLines(w, req, "From: ", KEYS.from, false);
  copyLines(w, req, "To: ", KEYS.to, false, opts.toTag !== undefined && !hasTag(req) ? opts.toTag : undefined);
  copyLines(w, req, "Call-ID: ", KEYS.callId, false);
  copyLines(w, req, "CSeq: ", KEYS.cseq, false);
  if (opts.copyRecordRoute === true && status > 100 && status < 300) {
    copyLines(w, req, "Record-Route: ", KEYS.recordRoute, true);
  }
  const server = opts.server ?? "evsip";
  if (server !== "") w.put("Server: ").put(oneLine(server)).put("\r\n");
  if (opts.headers !== undefined) for (const h of opts.headers) w.put(oneLine(h)).put("\r\n");
  const body = opts.body === undefined ? undefined : typeof opts.body === "string" ? Buffer.from(opts.body) : opts.body;
  if (body !== undefined && body.length > 0 && opts.contentType !== undefined) {
    w.put("Content-Type: ").put(oneLine(opts.contentType)).put("\r\n");
  }
  w.put(body === undefined || body.length === 0 ? "Content-Length: 0\r\n\r\n" : `Content-Length: ${body.length}\r\n\r\n`);
  return w.finish(body);
}

/** True when the request's To header carries a tag (tolerates a malformed To). */
function hasTag(req: SipMessageLike): boolean {
  try {
    return req.to.tag !== undefined;
  } catch {
    return /;\s*tag\s*=/i.test(req.header("to") ?? "");
  }
}

/**
 * The values of every line of a header, one per line (comma lists kept as written), so a
 * response copies Via lines exactly (RFC 3261 §8.2.6.2). Works on any SipMessageLike.
 */
export function rawLines(msg: SipMessageLike, name: string): string[] {
  const withLines = msg as SipMessageLike & { headerLines?: (n: string) => string[] };
  return typeof withLines.headerLines === "function" ? withLines.headerLines(name) : msg.headerValues(name);
}
