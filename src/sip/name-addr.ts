// name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1): From, To, Contact,
// Route, Record-Route, Refer-To. A display name is a quoted-string (escapes removed) or tokens;
// without <>, the URI ends at the first ';' and what follows are header parameters.
import type { NameAddr } from "./types.js";
import { parseParams, quotedEnd, skipWs, unquote } from "./params.js";
import { parseUri } from "./uri.js";

const EMPTY_PARAMS: ReadonlyMap<string, string | null> = new Map();

function isTokenDisplay(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x2c || c === 0x3b || c === 0x7f) {
      if (c !== 0x09) return false;
    }
  }
  return true;
}

/**
 * Parses one name-addr or addr-spec value with its header parameters; undefined when malformed
 * or when the URI is not sip:, sips: or tel:.
 * @example parseNameAddr('"Bob \\"B\\"" <sip:bob@b.example>;tag=9')?.displayName // 'Bob "B"'
 */
export function parseNameAddr(value: string): NameAddr | undefined {
  const text = value.trim();
  if (text.length === 0) return undefined;
  let displayName: string | undefined;
  let uriText: string;
  let rest: number;
  let i = 0;
  if (text.charCodeAt(0) === 0x22) {
    const e = quotedEnd(text, 0);
    if (e < 0) return undefined;
    displayName = unquote(text.slice(0, e));
    i = skipWs(text, e);
    if (text.charCodeAt(i) !== 0x3c) return undefined;
  } else {
    const lt = text.indexOf("<");
    if (lt >= 0) {
      const dn = text.slice(0, lt).trim();
      if (!isTokenDisplay(dn)) return undefined;
      displayName = dn.length > 0 ? dn.replace(/[ \t]+/g, " ") : undefined;
      i = lt;
    }
  }
  if (text.charCodeAt(i) === 0x3c) {
    const gt = text.indexOf(">", i);
    if (gt < 0) return undefined;
    uriText = text.slice(i + 1, gt);
    rest = gt + 1;
  } else {
    let e = i;
    while (e < text.length) {
      const c = text.charCodeAt(e);
      if (c === 0x3b || c === 0x20 || c === 0x09) break;
      e++;
    }
    uriText = text.slice(i, e);
    rest = e;
  }
  const uri = parseUri(uriText);
  if (uri === undefined) return undefined;
  let params = EMPTY_PARAMS;
  if (rest < text.length) {
    const p = new Map<string, string | null>();
    if (parseParams(text, rest, p, false) !== text.length) return undefined;
    params = p;
  }
  const tag = params.get("tag");
  return { displayName, uri, params, tag: tag ?? undefined, raw: value };
}

/** Renders a display name as a quoted-string, escaping `"` and `\`. */
export function quoteDisplayName(name: string): string {
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
