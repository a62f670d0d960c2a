// What Kamailio's cfg operators do with values, on evsip's PvValue (string | number | null). The
// left operand's type decides, as in Kamailio's rvalue evaluation: an integer on the left compares
// and adds numerically, a string on the left compares and concatenates as text. $null counts as 0
// next to an integer and as "" next to a string, and equals only $null; an unset $var is 0. Checked
// against Kamailio 5.6 by test/interop/cfg-kamailio.test.ts.
import type { PvValue } from "../core/pv-registry.js";

/** Kamailio's string-to-int: leading decimal digits (with a sign), else 0. */
export function toInt(v: PvValue): number {
  if (typeof v === "number") return v;
  if (v === null) return 0;
  const n = parseInt(v, 10);
  return Number.isNaN(n) ? 0 : n;
}

export function toStr(v: PvValue): string {
  return v === null ? "" : String(v);
}

/** `if (v)`: true when its integer value is > 0 (a function's -1 is false, "abc" is 0, "5" is 5). */
export function truthy(v: PvValue): boolean {
  return toInt(v) > 0;
}

const INT_TEXT = /^\s*[+-]?[0-9]+\s*$/;

/**
 * `==`: $null equals only $null; an integer on the left equals a string that is that integer
 * written out ("" and "abc" are no integer, so never equal); a string on the left compares as text.
 */
export function equals(l: PvValue, r: PvValue): boolean {
  if (l === null || r === null) return l === r;
  if (typeof l === "number") return typeof r === "number" ? l === r : INT_TEXT.test(r) && l === parseInt(r, 10);
  return l === toStr(r);
}

/** `<`, `>`, `<=`, `>=` compare integers only, as Kamailio's: a string is converted. */
export function compare(l: PvValue, r: PvValue): number {
  return toInt(l) - toInt(r);
}

/** `+`: integers add, a string on the left concatenates. */
export function plus(l: PvValue, r: PvValue): PvValue {
  if (typeof l === "number" || (l === null && typeof r === "number")) return toInt(l) + toInt(r);
  return toStr(l) + toStr(r);
}

/** A function's boolean answer in Kamailio's terms: 1 true, -1 false. */
export function rc(ok: boolean): number {
  return ok ? 1 : -1;
}
