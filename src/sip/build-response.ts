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
  return text.replace(/[\r\n]+/g, " ");
}

/**
 * Builds the bytes of a response to `req`.
 * @example buildResponse(msg, 404, "Not Found", { toTag: ids.generateTag() })
 */
export function buildResponse(req: SipMessageLike, status: number, reason: string, opts: ResponseOptions = {}): Buffer {
  let s = `SIP/2.0 ${status} ${oneLine(reason)}\r\n`;
  for (const v of rawLines(req, "via")) s += `Via: ${v}\r\n`;
  const from = req.header("from");
  if (from !== undefined) s += `From: ${from}\r\n`;
  const to = req.header("to");
  if (to !== undefined) {
    let toValue = to;
    if (opts.toTag !== undefined && !hasTag(req)) toValue += `;tag=${opts.toTag}`;
    s += `To: ${toValue}\r\n`;
  }
  const callId = req.header("call-id");
  if (callId !== undefined) s += `Call-ID: ${callId}\r\n`;
  const cseq = req.header("cseq");
  if (cseq !== undefined) s += `CSeq: ${cseq}\r\n`;
  if (opts.copyRecordRoute === true && status > 100 && status < 300) {
    for (const v of rawLines(req, "record-route")) s += `Record-Route: ${v}\r\n`;
  }
  const server = opts.server ?? "evsip";
  if (server !== "") s += `Server: ${oneLine(server)}\r\n`;
  if (opts.headers !== undefined) for (const h of opts.headers) s += `${oneLine(h)}\r\n`;
  const body = opts.body === undefined ? undefined : typeof opts.body === "string" ? Buffer.from(opts.body) : opts.body;
  if (body !== undefined && body.length > 0 && opts.contentType !== undefined) {
    s += `Content-Type: ${oneLine(opts.contentType)}\r\n`;
  }
  s += `Content-Length: ${body?.length ?? 0}\r\n\r\n`;
  const head = Buffer.from(s, "latin1");
  return body === undefined || body.length === 0 ? head : Buffer.concat([head, body]);
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
