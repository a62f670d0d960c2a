// Header names: compact forms (RFC 3261 §7.3.3 and §20, RFC 3265 §7.2, RFC 3515 §2.1, RFC 3892,
// RFC 3841, RFC 4028, RFC 4474) and the canonical spelling used when evsip writes a header.
// Lookups are byte comparisons against the original Buffer, so matching a name allocates nothing.

/** Compact letter → full lower-case name. */
export const COMPACT_FORMS: ReadonlyMap<string, string> = new Map([
  ["a", "accept-contact"],
  ["b", "referred-by"],
  ["c", "content-type"],
  ["d", "request-disposition"],
  ["e", "content-encoding"],
  ["f", "from"],
  ["i", "call-id"],
  ["j", "reject-contact"],
  ["k", "supported"],
  ["l", "content-length"],
  ["m", "contact"],
  ["n", "identity-info"],
  ["o", "event"],
  ["r", "refer-to"],
  ["s", "subject"],
  ["t", "to"],
  ["u", "allow-events"],
  ["v", "via"],
  ["x", "session-expires"],
  ["y", "identity"],
]);

const FULL_TO_COMPACT: ReadonlyMap<string, string> = new Map([...COMPACT_FORMS].map(([c, f]) => [f, c]));

/** Spellings that are not plain Title-Case. */
const SPECIAL_CASE: ReadonlyMap<string, string> = new Map([
  ["call-id", "Call-ID"],
  ["cseq", "CSeq"],
  ["www-authenticate", "WWW-Authenticate"],
  ["mime-version", "MIME-Version"],
  ["rack", "RAck"],
  ["rseq", "RSeq"],
  ["sip-etag", "SIP-ETag"],
  ["sip-if-match", "SIP-If-Match"],
  ["p-asserted-identity", "P-Asserted-Identity"],
]);

/** Headers whose values are comma-separated lists (RFC 3261 §7.3.1) and so are split per value. */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  "via",
  "route",
  "record-route",
  "contact",
  "allow",
  "allow-events",
  "supported",
  "require",
  "proxy-require",
  "unsupported",
  "accept",
  "accept-encoding",
  "accept-language",
  "content-encoding",
  "content-language",
  "in-reply-to",
  "path",
  "service-route",
  "p-asserted-identity",
]);

/** A header name prepared for byte comparison: lower-case full name and its compact letter. */
export interface HeaderKey {
  /** Lower-case full name ("via"). */
  readonly name: string;
  /** Char code of the lower-case compact letter, or -1. */
  readonly compact: number;
  readonly isList: boolean;
}

/** Lower-cases a header name and expands a compact form ("V" → "via"). */
export function headerKeyName(name: string): string {
  const lower = name.trim().toLowerCase();
  return COMPACT_FORMS.get(lower) ?? lower;
}

/**
 * Keys already built, by the name as given: header(), headerValues() and the reply builder look
 * names up per message, and building a key allocates. Names come from code and cfg scripts, but a
 * script can read a header named by message content, so the cache is emptied when it fills.
 */
const KEY_CACHE = new Map<string, HeaderKey>();
const KEY_CACHE_MAX = 1024;

/** The comparison key of a header name (compact forms understood); one shared object per name. */
export function makeHeaderKey(name: string): HeaderKey {
  const hit = KEY_CACHE.get(name);
  if (hit !== undefined) return hit;
  if (KEY_CACHE.size >= KEY_CACHE_MAX) KEY_CACHE.clear();
  const key = buildHeaderKey(name);
  KEY_CACHE.set(name, key);
  return key;
}

function buildHeaderKey(name: string): HeaderKey {
  const full = headerKeyName(name);
  const compact = FULL_TO_COMPACT.get(full);
  return {
    name: full,
    compact: compact === undefined ? -1 : compact.charCodeAt(0),
    isList: LIST_HEADERS.has(full),
  };
}

/** The spelling evsip writes: "call-id" → "Call-ID", "v" → "Via", "x-foo" → "X-Foo". */
export function canonicalHeaderName(name: string): string {
  const full = headerKeyName(name);
  const special = SPECIAL_CASE.get(full);
  if (special !== undefined) return special;
  return full.replace(/(^|-)([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

/** Lower-cases an ASCII letter code; other codes unchanged. */
export function lowerCode(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** True when buf[start, end) spells the header named by key (full or compact form, any case). */
export function nameMatches(buf: Buffer, start: number, end: number, key: HeaderKey): boolean {
  const len = end - start;
  if (len === 1 && key.compact !== -1 && lowerCode(buf[start] ?? 0) === key.compact) return true;
  const name = key.name;
  if (len !== name.length) return false;
  for (let i = 0; i < len; i++) {
    if (lowerCode(buf[start + i] ?? 0) !== name.charCodeAt(i)) return false;
  }
  return true;
}

/** Keys of the headers the message getters use, built once. */
export const KEYS = {
  via: makeHeaderKey("via"),
  from: makeHeaderKey("from"),
  to: makeHeaderKey("to"),
  callId: makeHeaderKey("call-id"),
  cseq: makeHeaderKey("cseq"),
  maxForwards: makeHeaderKey("max-forwards"),
  contentLength: makeHeaderKey("content-length"),
  contentType: makeHeaderKey("content-type"),
  route: makeHeaderKey("route"),
  recordRoute: makeHeaderKey("record-route"),
  contact: makeHeaderKey("contact"),
  userAgent: makeHeaderKey("user-agent"),
} as const;
