// What Kamailio's cfg operators do with values, on evsip's PvValue (string | number | null). The
// left operand's type decides, as in Kamailio's rvalue evaluation: an integer on the left compares
// and adds numerically, a string on the left compares and concatenates as text. $null counts as 0
// next to an integer and as "" next to a string. A function's result is true when > 0.
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

/** `if (v)`: an integer is true when > 0 (a function's -1 is false), a string when it is non-empty. */
export function truthy(v: PvValue): boolean {
  if (typeof v === "number") return v > 0;
  return v !== null && v !== "";
}

export function equals(l: PvValue, r: PvValue): boolean {
  if (l === null || r === null) return l === r || (l ?? r) === "";
  if (typeof l === "number") return l === toInt(r);
  return l === toStr(r);
}

export function compare(l: PvValue, r: PvValue): number {
  if (typeof l === "number" || (l === null && typeof r === "number")) return toInt(l) - toInt(r);
  const a = toStr(l);
  const b = toStr(r);
  return a < b ? -1 : a > b ? 1 : 0;
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
