// buildResponse: a response to a request (RFC 3261 §8.2.6.2, §16.7 for a proxy's local replies):
// every Via line copied in order, From, To (a To tag added when asked and absent), Call-ID, CSeq,
// Record-Route only for 1xx/2xx when copyRecordRoute (§12.1.1), then Server and Content-Length.
import type { SipMessageLike } from "./types.js";

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

/** Strips CR and LF so app-supplied text cannot inject header lines. */
function oneLine(text: string): string {
  return text.includes("\r") || text.includes("\n") ? text.replace(/[\r\n]+/g, " ") : text;
}

/**
 * The response head is written piece by piece into one scratch buffer and copied out once: joining
 * it as a string first made a chain of intermediate strings per response, the largest allocation a
 * locally answered call made (measured with the sampling heap profiler under load).
 */
class HeadWriter {
  private static scratch = Buffer.allocUnsafeSlow(16_384);
  private pos = 0;

  /** Appends text, byte for byte (latin1: header values are decoded that way). */
  put(text: string): this {
    let buf = HeadWriter.scratch;
    if (this.pos + text.length > buf.length) {
      const bigger = Buffer.allocUnsafeSlow(2 * (this.pos + text.length));
      buf.copy(bigger, 0, 0, this.pos);
      buf = HeadWriter.scratch = bigger;
    }
    this.pos += buf.write(text, this.pos, "latin1");
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
 * Builds the bytes of a response to `req`.
 * @example buildResponse(msg, 404, "Not Found", { toTag: ids.generateTag() })
 */
export function buildResponse(req: SipMessageLike, status: number, reason: string, opts: ResponseOptions = {}): Buffer {
  const w = new HeadWriter().put(`SIP/2.0 ${status} `).put(oneLine(reason)).put("\r\n");
  for (const v of rawLines(req, "via")) w.put("Via: ").put(v).put("\r\n");
  const from = req.header("from");
  if (from !== undefined) w.put("From: ").put(from).put("\r\n");
  const to = req.header("to");
  if (to !== undefined) {
    w.put("To: ").put(to);
    if (opts.toTag !== undefined && !hasTag(req)) w.put(";tag=").put(opts.toTag);
    w.put("\r\n");
  }
  const callId = req.header("call-id");
  if (callId !== undefined) w.put("Call-ID: ").put(callId).put("\r\n");
  const cseq = req.header("cseq");
  if (cseq !== undefined) w.put("CSeq: ").put(cseq).put("\r\n");
  if (opts.copyRecordRoute === true && status > 100 && status < 300) {
    for (const v of rawLines(req, "record-route")) w.put("Record-Route: ").put(v).put("\r\n");
  }
  const server = opts.server ?? "evsip";
  if (server !== "") w.put("Server: ").put(oneLine(server)).put("\r\n");
  if (opts.headers !== undefined) for (const h of opts.headers) w.put(oneLine(h)).put("\r\n");
  const body = opts.body === undefined ? undefined : typeof opts.body === "string" ? Buffer.from(opts.body) : opts.body;
  if (body !== undefined && body.length > 0 && opts.contentType !== undefined) {
    w.put("Content-Type: ").put(oneLine(opts.contentType)).put("\r\n");
  }
  w.put(`Content-Length: ${body?.length ?? 0}\r\n\r\n`);
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
