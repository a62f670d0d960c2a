// The syntax of one pseudo-variable reference, as Kamailio's pv_parse_spec reads it: `$name`,
// `$name(inner)`, and the bracketed form `$(name(inner)[index]{tr1}{tr2})`, the only one that takes
// an index or transformations. Name characters are letters, digits, '_' and '.', as in Kamailio
// (so "$fU." names "fU.": write "$(fU)."). Pure functions over text; no registry lookups.

export interface PvSpecSyntax {
  readonly name: string;
  /** The inner name as written (may hold `$…` to expand at run time), or undefined. */
  readonly inner: string | undefined;
  /** `[n]` or `[*]` as written, or undefined. */
  readonly index: string | undefined;
  /** Each `{…}` transformation's text without its braces, in order. */
  readonly trans: readonly string[];
  /** Index just past the reference. */
  readonly end: number;
}

export type PvSpecParse = { readonly ok: true; readonly spec: PvSpecSyntax } | { readonly ok: false; readonly detail: string };

export function isPvNameChar(c: string | undefined): boolean {
  if (c === undefined) return false;
  const x = c.charCodeAt(0);
  return (x >= 48 && x <= 57) || (x >= 65 && x <= 90) || (x >= 97 && x <= 122) || x === 95 || x === 46;
}

/** Index just past the bracket that closes the one at `open` (nesting counted), or -1. */
export function closing(s: string, open: number, left: string, right: string): number {
  let depth = 0;
  for (let j = open; j < s.length; j++) {
    if (s[j] === left) depth++;
    else if (s[j] === right && --depth === 0) return j + 1;
  }
  return -1;
}

function nameEnd(s: string, i: number): number {
  while (isPvNameChar(s[i])) i++;
  return i;
}

/** Parses the reference whose '$' is at `s[at]`. */
export function parsePvAt(s: string, at: number): PvSpecParse {
  const bracketed = s[at + 1] === "(";
  let j = bracketed ? at + 2 : at + 1;
  const ne = nameEnd(s, j);
  if (ne === j) return { ok: false, detail: `no name after '$' at ${at}` };
  const name = s.slice(j, ne);
  j = ne;
  let inner: string | undefined;
  if (s[j] === "(") {
    const e = closing(s, j, "(", ")");
    if (e < 0) return { ok: false, detail: `unclosed '(' after $${name}` };
    inner = s.slice(j + 1, e - 1);
    j = e;
  }
  if (!bracketed) return { ok: true, spec: { name, inner, index: undefined, trans: [], end: j } };
  let index: string | undefined;
  if (s[j] === "[") {
    const e = s.indexOf("]", j);
    if (e < 0) return { ok: false, detail: `unclosed '[' after $${name}` };
    index = s.slice(j + 1, e);
    j = e + 1;
  }
  const trans: string[] = [];
  while (s[j] === "{") {
    const e = closing(s, j, "{", "}");
    if (e < 0) return { ok: false, detail: `unclosed '{' after $${name}` };
    trans.push(s.slice(j + 1, e - 1));
    j = e;
  }
  if (s[j] !== ")") return { ok: false, detail: `expected ')' to end $(${name}…) at ${j}` };
  return { ok: true, spec: { name, inner, index, trans, end: j + 1 } };
}

/** True when the '$' at `s[at]` starts a reference (a name character or '(' follows). */
export function startsPv(s: string, at: number): boolean {
  const c = s[at + 1];
  return c === "(" || isPvNameChar(c);
}
