// The string transformations of Kamailio's pv module ({s.len}, {s.substr,o,l}, …), each with the
// edge behaviour of pv_trans.c: offsets out of range and non-numbers fail (the value becomes null),
// select counts from the end for a negative index, hashes are lower-case hex.
import { createHash } from "node:crypto";
import type { TrDef } from "./tr-types.js";

/** Kamailio's str2slong: optional sign, then digits only; undefined otherwise. */
export function strToInt(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

function int(p: string | undefined): number | undefined {
  return p === undefined ? undefined : strToInt(p);
}

function substr(v: string, p: readonly string[]): string | null {
  const o = int(p[0]);
  let len = int(p[1]);
  if (o === undefined || len === undefined || len < 0) return null;
  if (o >= 0) {
    if (o >= v.length) return null;
    if (o + len >= v.length) len = 0;
    return len === 0 ? v.slice(o) : v.slice(o, o + len);
  }
  const back = -o;
  if (back > v.length) return null;
  if (back < len) len = 0;
  const start = v.length - back;
  return len === 0 ? v.slice(start) : v.slice(start, start + len);
}

const SELECT_ESCAPES: Readonly<Record<string, string>> = { "\\": "\\", n: "\n", r: "\r", t: "\t", w: " ", s: "ws" };

function select(v: string, p: readonly string[]): string | null {
  const i = int(p[0]);
  const sep = p[1] ?? "";
  if (i === undefined || sep === "") return null;
  const c = sep.length > 1 ? SELECT_ESCAPES[sep[1] as string] : sep[0];
  if (c === undefined) return null;
  const fields = c === "ws" ? v.split(/[ \t\r\n]/) : v.split(c);
  const f = i >= 0 ? fields[i] : fields[fields.length + i];
  return f ?? "";
}

/** Kamailio's escape_common: backslash before ', ", \ and NUL (as \0). */
function escapeCommon(v: string): string {
  return v.replace(/['"\\\0]/g, (c) => (c === "\0" ? "\\0" : `\\${c}`));
}

function unescapeCommon(v: string): string {
  return v.replace(/\\(['"\\0])/g, (_m, c: string) => (c === "0" ? "\0" : c));
}

/** Kamailio's urlencode: alphanumerics and -_.~ stay, every other byte is %xx (lower-case hex). */
function urlencodeParam(v: string): string {
  let out = "";
  for (const b of Buffer.from(v, "utf8")) {
    const ok =
      (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b === 45 || b === 95 || b === 46 || b === 126;
    out += ok ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/** Kamailio's trim: spaces, tabs, CR and LF at both ends. */
function trim(v: string): string {
  return v.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
}

function decodeBase64(v: string): string | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 === 1) return null;
  return Buffer.from(v, "base64").toString("utf8");
}

const str = (fn: (v: string, p: readonly string[]) => string | number | null, min = 0, max = min): TrDef => ({
  min,
  max,
  apply: (v, p) => fn(String(v), p),
});

export const STRING_TRS: ReadonlyArray<[string, TrDef]> = [
  ["s.len", str((v) => Buffer.byteLength(v, "utf8"))],
  ["s.substr", str(substr, 2)],
  ["s.select", str(select, 2)],
  ["s.tolower", str((v) => v.toLowerCase())],
  ["s.toupper", str((v) => v.toUpperCase())],
  ["s.encode.base64", str((v) => Buffer.from(v, "utf8").toString("base64"))],
  ["s.decode.base64", str(decodeBase64)],
  ["s.md5", str((v) => createHash("md5").update(v, "utf8").digest("hex"))],
  ["s.sha256", str((v) => createHash("sha256").update(v, "utf8").digest("hex"))],
  ["s.int", { min: 0, max: 0, apply: (v) => (typeof v === "number" ? v : (strToInt(v) ?? null)) }],
  ["s.rm", str((v, p) => (p[0] ? v.split(p[0]).join("") : v), 1)],
  ["s.replace", str((v, p) => (p[0] ? v.split(p[0]).join(p[1] ?? "") : v), 2)],
  ["s.trim", str(trim)],
  ["s.escape.common", str(escapeCommon)],
  ["s.unescape.common", str(unescapeCommon)],
  ["s.urlencode.param", str(urlencodeParam)],
];
