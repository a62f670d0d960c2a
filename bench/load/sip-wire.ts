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
      `Via: SIP/2.0/UDP ${leg.local};branch=${r.branch}\r\n` +
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
      `Via: SIP/2.0/UDP ${leg.local};branch=${f.branch}\r\n` +
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

/** Splits a header line into lower-cased name and trimmed value; undefined for a non-header line. */
function header(line: string): [string, string] | undefined {
  const c = line.indexOf(":");
  if (c <= 0) return undefined;
  return [line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim()];
}

const BRANCH = /;\s*branch=([^;,\s>]+)/i;
const TAG = /;\s*tag=([^;,\s>]+)/i;

function param(value: string, re: RegExp): string | undefined {
  return re.exec(value)?.[1];
}

/** Splits a comma-separated header value at commas outside <…> and quotes. */
function splitValues(v: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    const ch = v[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === "<") depth++;
    else if (!quoted && ch === ">") depth--;
    else if (!quoted && depth === 0 && ch === ",") {
      out.push(v.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(v.slice(start).trim());
  return out.filter((s) => s !== "");
}

function uriOf(nameAddr: string): string {
  const lt = nameAddr.indexOf("<");
  if (lt < 0) return nameAddr.split(";")[0]?.trim() ?? nameAddr;
  return nameAddr.slice(lt + 1, nameAddr.indexOf(">", lt));
}

/** Parses a response's status line and the headers above; undefined for a request or garbage. */
export function parseResponse(buf: Buffer): ResponseInfo | undefined {
  const text = buf.toString("latin1");
  if (!text.startsWith("SIP/2.0 ")) return undefined;
  const status = Number(text.slice(8, 11));
  if (!Number.isInteger(status) || status < 100 || status > 699) return undefined;
  const end = text.indexOf("\r\n\r\n");
  const lines = (end < 0 ? text : text.slice(0, end)).split("\r\n");
  let branch: string | undefined;
  let callId: string | undefined;
  let cseq = Number.NaN;
  let cseqMethod = "";
  let toTag: string | undefined;
  let contact: string | undefined;
  const recordRoutes: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const h = header(lines[i] ?? "");
    if (h === undefined) continue;
    const [name, value] = h;
    if ((name === "via" || name === "v") && branch === undefined) branch = param(splitValues(value)[0] ?? "", BRANCH);
    else if (name === "call-id" || name === "i") callId = value;
    else if (name === "cseq") {
      const [n, m] = value.split(/\s+/);
      cseq = Number(n);
      cseqMethod = m ?? "";
    } else if (name === "to" || name === "t") toTag = param(value, TAG);
    else if ((name === "contact" || name === "m") && contact === undefined) contact = uriOf(splitValues(value)[0] ?? "");
    else if (name === "record-route") recordRoutes.push(...splitValues(value));
  }
  return { status, branch, callId, cseq, cseqMethod, toTag, contact, recordRoutes };
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

  callId(i: number): string {
    return `${this.runId}-${i}`;
  }

  fromTag(i: number): string {
    return `f${this.runId}${i}`;
  }

  /** `what`: "i" the initial request (and the ACK of its non-2xx final), "a" the ACK of a 2xx, "b" the BYE. */
  branch(i: number, what: "i" | "a" | "b"): string {
    return `${this.#prefix}${i}${what}`;
  }

  /** The index of the initial request `branch` belongs to; undefined for a BYE's or another run's. */
  initialOf(branch: string): number | undefined {
    if (!branch.startsWith(this.#prefix) || !branch.endsWith("i")) return undefined;
    const digits = branch.slice(this.#prefix.length, -1);
    if (!/^\d{1,15}$/.test(digits)) return undefined;
    return Number(digits);
  }

  /** The initial request of run index i. */
  initial(leg: Leg, method: RequestSpec["method"], i: number): Buffer {
    return initialRequest(leg, { method, branch: this.branch(i, "i"), callId: this.callId(i), fromTag: this.fromTag(i) });
  }
}
