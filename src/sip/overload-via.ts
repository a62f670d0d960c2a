// RFC 7339 overload control, on the wire: a client that supports it puts a valueless `oc` parameter
// (and `oc-algo`, the algorithms it knows) in the Via it adds to a request; a server in overload
// answers in the same Via of its responses, `oc=<percent>;oc-algo="loss";oc-validity=<ms>;
// oc-seq=<n>`, and the client then sends that much less new work for that long. This file edits a
// response's bytes to carry that feedback; when to give it, and how much, is the transport's
// (transport/overload-feedback.ts).
//
// The edit works on the bytes that are about to leave, whoever built them (a local reply, a relayed
// response, a retransmission), so that one place gives the feedback. It touches nothing but the
// parameters of the first Via value, and leaves a message it cannot read safely as it is. A relayed
// response first loses any feedback it carried there that evsip did not write
// (relayedWithoutForeignFeedback), whatever form its Via takes.
import { firstListComma, isWs, quotedEnd, unquote } from "./params.js";
import { parseMessage } from "./parse.js";
import type { Via } from "./types.js";

const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;
const RESPONSE = Buffer.from("SIP/2.0 ", "latin1");

/** The parameters this file writes: a client's own values of them are replaced, never repeated. */
const OC_PARAMS: ReadonlySet<string> = new Set(["oc", "oc-algo", "oc-validity", "oc-seq"]);

/** End (index of CR) of the line starting at i, or -1 when the line is not CRLF-terminated. */
function lineEnd(buf: Buffer, i: number): number {
  const cr = buf.indexOf(CR, i);
  return cr >= 0 && buf[cr + 1] === LF ? cr : -1;
}

/** True when buf[s, e) is a Via header's name, long (`Via`) or compact (`v`), in any case. */
function isViaName(buf: Buffer, s: number, e: number): boolean {
  while (e > s && isWs(buf[e - 1])) e--;
  const n = e - s;
  const c0 = (buf[s] ?? 0) | 0x20;
  if (n === 1) return c0 === 0x76;
  return n === 3 && c0 === 0x76 && ((buf[s + 1] ?? 0) | 0x20) === 0x69 && ((buf[s + 2] ?? 0) | 0x20) === 0x61;
}

/**
 * Where the first Via value of a response lies, [start, end) without surrounding whitespace, or
 * undefined: not a response, no Via, or a Via whose line is folded (a rare form left untouched).
 */
function firstViaValue(buf: Buffer): { start: number; end: number } | undefined {
  if (buf.length < RESPONSE.length || buf.compare(RESPONSE, 0, RESPONSE.length, 0, RESPONSE.length) !== 0) return undefined;
  let i = lineEnd(buf, 0);
  if (i < 0) return undefined;
  for (i += 2; ;) {
    const eol = lineEnd(buf, i);
    if (eol <= i) return undefined; // the blank line ending the headers, or no CRLF at all
    let colon = i;
    while (colon < eol && buf[colon] !== COLON) colon++;
    // A continuation line (leading whitespace) belongs to the header before it.
    if (!isWs(buf[i]) && colon > i && colon < eol && isViaName(buf, i, colon)) {
      if (isWs(buf[eol + 2])) return undefined;
      let start = colon + 1;
      while (start < eol && isWs(buf[start])) start++;
      const comma = firstListComma(buf, start, eol);
      let end = comma < 0 ? eol : comma;
      while (end > start && isWs(buf[end - 1])) end--;
      return end > start ? { start, end } : undefined;
    }
    i = eol + 2;
  }
}

/**
 * Whether buf[s, e) may hold an `oc` parameter (`;`, optional whitespace, `oc` in any case): a
 * byte scan, so that a response whose client did not ask costs no string while feedback is given.
 */
function mayAsk(buf: Buffer, s: number, e: number): boolean {
  for (let i = buf.indexOf(0x3b, s); i >= 0 && i < e; i = buf.indexOf(0x3b, i + 1)) {
    let k = i + 1;
    while (k < e && isWs(buf[k])) k++;
    if (((buf[k] ?? 0) | 0x20) === 0x6f && ((buf[k + 1] ?? 0) | 0x20) === 0x63) return true;
  }
  return false;
}

/** Splits a Via value at the semicolons outside quoted strings; undefined when a quote is unterminated. */
function splitParams(value: string): string[] | undefined {
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22) {
      const q = quotedEnd(value, i);
      if (q < 0) return undefined;
      i = q - 1;
    } else if (c === 0x3b) {
      parts.push(value.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(value.slice(from));
  return parts;
}

/** A parameter's lower-cased name and its value (undefined when it has none). */
function nameValue(param: string): { name: string; value: string | undefined } {
  const eq = param.indexOf("=");
  if (eq < 0) return { name: param.trim().toLowerCase(), value: undefined };
  return { name: param.slice(0, eq).trim().toLowerCase(), value: param.slice(eq + 1).trim() };
}

/** Whether a client's `oc-algo` (a quoted list, or absent: loss is every client's) offers loss. */
function offersLoss(algo: string | undefined): boolean {
  if (algo === undefined) return true;
  const list = algo.startsWith('"') && algo.endsWith('"') && algo.length >= 2 ? unquote(algo) : algo;
  return list.split(",").some((a) => a.trim().toLowerCase() === "loss");
}

/** A Via value's parameters as the two edits below read them. */
interface OcParams {
  /** The value without any oc parameter: the sent-by and the other parameters. */
  readonly others: string[];
  /** The value without feedback, in place: a valued `oc` left valueless, `oc-validity` and `oc-seq` gone. */
  readonly cleaned: string[];
  /** `oc` is there, with a value or without. */
  readonly asked: boolean;
  /** `oc-algo`'s value, if any. */
  readonly algo: string | undefined;
  /** Feedback is there: a valued `oc`, `oc-validity` or `oc-seq`. */
  readonly feedback: boolean;
}

/** Splits a Via value's oc parameters from the others; undefined when a quote is unterminated. */
function ocParams(value: string): OcParams | undefined {
  const parts = splitParams(value);
  if (parts === undefined) return undefined;
  let asked = false;
  let feedback = false;
  let algo: string | undefined;
  const others = [parts[0] as string];
  const cleaned = [parts[0] as string];
  for (let k = 1; k < parts.length; k++) {
    const p = parts[k] as string;
    const { name, value: v } = nameValue(p);
    if (name === "oc") asked = true;
    else if (name === "oc-algo") algo = v;
    const foreign = name === "oc-validity" || name === "oc-seq" || (name === "oc" && v !== undefined);
    if (foreign) feedback = true;
    if (!OC_PARAMS.has(name)) others.push(p);
    if (!foreign) cleaned.push(p);
    else if (name === "oc") cleaned.push("oc");
  }
  return { others, cleaned, asked, algo, feedback };
}

/** `buf` with [at.start, at.end) replaced by `text`. */
function spliced(buf: Buffer, at: { start: number; end: number }, text: string): Buffer {
  return Buffer.concat([buf.subarray(0, at.start), Buffer.from(text, "latin1"), buf.subarray(at.end)]);
}

/**
 * The response `buf` with `feedback` (`;oc=…;oc-algo="loss";oc-validity=…;oc-seq=…`) in place of
 * any overload-control parameters of its first Via, when that Via's client asked for overload
 * control (a valueless or valued `oc`) and offers the loss algorithm; otherwise undefined, and the
 * response should leave as it is.
 */
export function withOverloadFeedback(buf: Buffer, feedback: string): Buffer | undefined {
  const at = firstViaValue(buf);
  if (at === undefined || !mayAsk(buf, at.start, at.end)) return undefined;
  const p = ocParams(buf.toString("latin1", at.start, at.end));
  if (p === undefined || !p.asked || !offersLoss(p.algo)) return undefined;
  return spliced(buf, at, p.others.join(";") + feedback);
}

/**
 * A Via value without feedback evsip did not write: the client's own `oc` (valueless) and
 * `oc-algo` kept, `oc-validity` and `oc-seq` gone; undefined when it had none or cannot be split.
 */
function withoutFeedbackParams(value: string): string | undefined {
  const p = ocParams(value);
  return p === undefined || !p.feedback ? undefined : p.cleaned.join(";");
}

/** Whether a parsed Via carries feedback: a valued `oc`, `oc-validity` or `oc-seq`. */
function carriesFeedback(v: Via): boolean {
  const oc = v.params.get("oc");
  return (oc !== undefined && oc !== null) || v.params.has("oc-validity") || v.params.has("oc-seq");
}

/**
 * The response `built`, about to be relayed upstream (evsip's own Via already removed), with any
 * overload feedback in its first Via taken out: that Via is the upstream client's, and feedback in
 * it that evsip did not write came from further downstream. A callee echoes the Vias of a request in
 * its response, so it could write `oc=100` there and have the client hold back every new call to
 * evsip (RFC 7339 §10). `oc-validity` and `oc-seq` go, and a valued `oc` is left valueless, as the
 * client sent it (evsip's own feedback, when it gives one, is written afterwards at the transport).
 * A form the byte scan does not read (a folded Via line, bare LF line ends) is parsed instead, and
 * its Vias rewritten one value per line when the first carries feedback. `built` itself when there
 * was none.
 */
export function relayedWithoutForeignFeedback(built: Buffer): Buffer {
  const at = firstViaValue(built);
  if (at !== undefined) {
    if (!mayAsk(built, at.start, at.end)) return built;
    const clean = withoutFeedbackParams(built.toString("latin1", at.start, at.end));
    return clean === undefined ? built : spliced(built, at, clean);
  }
  const r = parseMessage(built, { maxMessageSize: built.length + 1, maxHeaders: 100_000, maxLineLength: built.length + 1 });
  if (!r.ok) return built;
  let vias: readonly Via[];
  try {
    vias = r.msg.vias;
  } catch {
    return built; // a Via the parser cannot read: no client reads feedback from it either
  }
  const top = vias[0];
  if (top === undefined || !carriesFeedback(top)) return built;
  const lines = vias.map((v, i) => `Via: ${i === 0 ? (withoutFeedbackParams(v.raw) ?? v.raw) : v.raw}`);
  return r.msg.rewrite({ remove: ["via"], prepend: lines });
}
