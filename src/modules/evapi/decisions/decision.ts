// The decision message (src/modules/evapi/README.md "Decisions"): what an external application
// answers about a suspended transaction. allow, reject with a code and reason, drop, or redirect,
// plus header lines to add and $var / $dlg_var values to set. It is an ordinary application
// message (it reaches evapi:message-received, so a script may still speak its own protocol);
// ctx.evapi.decide() reads it. Parsing never throws: peer input gets a coded failure.
import type { ErrorCode } from "../../../errors.js";
// A character whose low byte is CR or LF (U+010A) is a line break once written as latin1.
import { hasLineEnd } from "../../../core/header-edits.js";

/** What the decision does with the transaction. */
export type DecisionAction = "allow" | "reject" | "drop" | "redirect";

/** A decision as it travels on the wire (JSON); evsip/client builds them with `decision.*`. */
export interface Decision {
  /** The suspended transaction ($T(id_index), $T(id_label)); not needed by applyDecision(). */
  readonly tindex?: number | string;
  readonly tlabel?: number | string;
  readonly action: DecisionAction;
  /** reject: 400-699 (default 403); redirect: 300-399 (default 302). */
  readonly code?: number;
  /** The reason phrase; default per code. */
  readonly reason?: string;
  /** redirect: the Contact URI(s), 1 to 8 (sip:, sips: or tel:). */
  readonly contact?: string | readonly string[];
  /** Header lines added to what the decision sends: the relayed request (allow) or the reply. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** `$var(name)` values set before the action (an allow route reads them). */
  readonly vars?: Readonly<Record<string, string | number>>;
  /** `$dlg_var(name)` values (needs the dialog module and a dialog for the call). */
  readonly dlgVars?: Readonly<Record<string, string | number>>;
}

/** A checked decision, ready to apply. */
export interface ParsedDecision {
  readonly index: number | string | undefined;
  readonly label: number | string | undefined;
  readonly action: DecisionAction;
  readonly code: number;
  readonly reason: string;
  readonly headerLines: readonly string[];
  readonly vars: ReadonlyArray<readonly [string, string | number]>;
  readonly dlgVars: ReadonlyArray<readonly [string, string | number]>;
}

/** A refused decision. */
export interface DecisionFailure {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly detail: string;
}

const MAX_HEADERS = 16;
const MAX_VARS = 32;
const MAX_CONTACTS = 8;
const TOKEN = /^[A-Za-z0-9!%'*+\-.^_`|~]{1,64}$/;
const TEXT = /^[^\x00-\x1f\x7f]{0,1024}$/;
const REASON = /^[^\x00-\x1f\x7f]{1,128}$/;
const VAR_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const CONTACT_URI = /^(sips?|tel):[^\s<>"\x00-\x1f\x7f]{1,256}$/i;
/** Headers a decision may not add: they make the request or response what it is (Contact: use `contact`). */
const RESERVED = new Set([
  "via",
  "v",
  "from",
  "f",
  "to",
  "t",
  "call-id",
  "i",
  "cseq",
  "content-length",
  "l",
  "content-type",
  "c",
  "max-forwards",
  "route",
  "record-route",
  "contact",
  "m",
]);
const ACTIONS: ReadonlySet<string> = new Set(["allow", "reject", "drop", "redirect"]);
const DEFAULT_REASON: Readonly<Record<number, string>> = { 302: "Moved Temporarily", 403: "Forbidden" };

/** Checks a decision (parsed JSON or the object itself); `needId`: tindex and tlabel are required. */
export function parseDecision(v: unknown, needId: boolean): ParsedDecision | DecisionFailure {
  const bad = (detail: string): DecisionFailure => ({ ok: false, code: "ERR_EVAPI_BAD_DECISION", detail });
  if (typeof v !== "object" || v === null || Array.isArray(v)) return bad("a decision is a JSON object");
  const d = v as Record<string, unknown>;
  if (typeof d.action !== "string" || !ACTIONS.has(d.action)) return bad("action must be allow, reject, drop or redirect");
  const action = d.action as DecisionAction;
  if (needId && (!isIdent(d.tindex) || !isIdent(d.tlabel))) return bad("tindex and tlabel must be integers (or decimal text)");
  const [lo, hi, fallback] = action === "redirect" ? [300, 399, 302] : [400, 699, 403];
  const code = d.code ?? fallback;
  if (
    (action === "reject" || action === "redirect") &&
    (!Number.isInteger(code) || (code as number) < lo || (code as number) > hi)
  ) {
    return bad(`code of ${action} must be an integer ${lo}-${hi}`);
  }
  const reason = d.reason ?? DEFAULT_REASON[code as number] ?? (action === "redirect" ? "Redirected" : "Rejected");
  if (typeof reason !== "string" || !REASON.test(reason) || hasLineEnd(reason))
    return bad("reason must be 1-128 characters without control characters");
  const lines: string[] = [];
  if (action === "redirect") {
    const contacts = typeof d.contact === "string" ? [d.contact] : d.contact;
    if (!Array.isArray(contacts) || contacts.length === 0 || contacts.length > MAX_CONTACTS) {
      return bad(`redirect needs contact: 1 to ${MAX_CONTACTS} URIs`);
    }
    for (const u of contacts as unknown[]) {
      if (typeof u !== "string" || !CONTACT_URI.test(u))
        return bad("a contact must be a sip:, sips: or tel: URI without spaces or <>");
      lines.push(`Contact: <${u}>`);
    }
  }
  const headers = headerLines(d.headers, lines);
  if (typeof headers === "string") return bad(headers);
  const vars = varList(d.vars, "vars");
  if (typeof vars === "string") return bad(vars);
  const dlgVars = varList(d.dlgVars, "dlgVars");
  if (typeof dlgVars === "string") return bad(dlgVars);
  return {
    index: d.tindex as number | string | undefined,
    label: d.tlabel as number | string | undefined,
    action,
    code: code as number,
    reason,
    headerLines: headers,
    vars,
    dlgVars,
  };
}

/** The header lines of `h` appended to `lines`, or what is wrong with them. */
function headerLines(h: unknown, lines: string[]): string[] | string {
  if (h === undefined) return lines;
  if (typeof h !== "object" || h === null || Array.isArray(h)) return "headers must be an object of name: value";
  for (const [name, value] of Object.entries(h as Record<string, unknown>)) {
    if (!TOKEN.test(name)) return `header name ${JSON.stringify(name.slice(0, 64))} is not a token`;
    if (RESERVED.has(name.toLowerCase())) return `header ${name} may not be set by a decision`;
    for (const one of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (typeof one !== "string" || !TEXT.test(one) || hasLineEnd(one))
        return `header ${name}: a value is text of at most 1024 characters, no control characters`;
      lines.push(`${name}: ${one}`);
    }
  }
  return lines.length > MAX_HEADERS ? `at most ${MAX_HEADERS} header lines` : lines;
}

function varList(o: unknown, what: string): Array<[string, string | number]> | string {
  if (o === undefined) return [];
  if (typeof o !== "object" || o === null || Array.isArray(o)) return `${what} must be an object of name: value`;
  const out: Array<[string, string | number]> = [];
  for (const [name, value] of Object.entries(o as Record<string, unknown>)) {
    if (!VAR_NAME.test(name)) return `${what}: name ${JSON.stringify(name.slice(0, 64))} is not 1-64 of A-Z a-z 0-9 _ . -`;
    if (!(typeof value === "string" && value.length <= 1024) && !(typeof value === "number" && Number.isFinite(value))) {
      return `${what}.${name}: a value is a string of at most 1024 characters or a finite number`;
    }
    out.push([name, value]);
  }
  return out.length > MAX_VARS ? `${what}: at most ${MAX_VARS} names` : out;
}

function isIdent(v: unknown): boolean {
  return (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) || (typeof v === "string" && /^\d{1,10}$/.test(v));
}
