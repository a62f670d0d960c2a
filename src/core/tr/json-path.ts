// JSON paths as Kamailio's json and jansson modules read them, over JSON.parse values:
// - jansson (`jansson_get`, `jansson_set`): "a.b[1].c", keys split at '.', `[n]` indexes an array;
//   a value reads as jansson_to_val gives it (objects and arrays compact JSON, booleans 1/0).
// - json (`json_get_field`, `{json.parse,path}`): "a.b[1]" split at a separator, each part a key
//   with an optional `[n]`; a value reads as json-c prints it (strings bare, containers spaced).
// Every function is total: a path that does not resolve gives undefined, never an exception.
import type { PvValue } from "../pv-registry.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Step = string | number;

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** JSON.parse that answers undefined for bad text. */
export function parseJson(text: string): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** jansson's json_path_get tokens: keys split at '.' or '[', `[n]` an index; undefined when malformed. */
export function janssonPath(path: string): Step[] | undefined {
  const steps: Step[] = [];
  let i = 0;
  while (i < path.length) {
    if (path[i] === "[") {
      const close = path.indexOf("]", i);
      const n = close < 0 ? NaN : Number(path.slice(i + 1, close));
      if (!Number.isInteger(n) || n < 0 || path.slice(i + 1, close).trim() === "") return undefined;
      steps.push(n);
      i = close + 1;
      if (path[i] === ".") i++;
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== "." && path[j] !== "[") j++;
    steps.push(path.slice(i, j));
    i = path[j] === "." ? j + 1 : j;
  }
  return steps;
}

function step(cur: Json | undefined, s: Step): Json | undefined {
  if (typeof s === "number") return Array.isArray(cur) ? cur[s] : undefined;
  return isObject(cur) && hasOwn(cur, s) ? cur[s] : undefined;
}

export function jsonPathGet(doc: Json, steps: readonly Step[]): Json | undefined {
  let cur: Json | undefined = doc;
  for (const s of steps) {
    cur = step(cur, s);
    if (cur === undefined) return undefined;
  }
  return cur;
}

/**
 * jansson's json_path_set: missing objects along the path are created, arrays are not; the last
 * step sets (or, with `append`, appends to an array / merges into an object). False when it cannot.
 */
export function jsonPathSet(doc: Json, steps: readonly Step[], value: Json, append: boolean): boolean {
  if (steps.length === 0) return false;
  let cur: Json = doc;
  for (const s of steps.slice(0, -1)) {
    const next = step(cur, s);
    if (next !== undefined) cur = next;
    else if (typeof s === "string" && isObject(cur)) cur = cur[s] = {};
    else return false;
  }
  const last = steps[steps.length - 1] as Step;
  const target = append ? (typeof last === "string" && last !== "" ? step(cur, last) : cur) : undefined;
  if (append) {
    if (Array.isArray(target)) target.push(value);
    else if (isObject(target) && isObject(value)) Object.assign(target, value);
    else return false;
    return true;
  }
  if (typeof last === "number") {
    if (!Array.isArray(cur) || last >= cur.length) return false;
    cur[last] = value;
    return true;
  }
  if (!isObject(cur) || last === "") return false;
  cur[last] = value;
  return true;
}

/** jansson_to_val: what `$var` receives from jansson_get. */
export function janssonValue(v: Json): PvValue {
  if (v === null) return null;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") return v;
  if (typeof v === "number") {
    if (Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) return v;
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(15)));
  }
  return JSON.stringify(v);
}

/** The json module's path: parts split at `sep`, each "key" or "key[n]". */
export function jsonModulePath(path: string, sep: string): Step[] {
  const steps: Step[] = [];
  for (const part of path.split(sep)) {
    const m = /^([^[]*)\[([^\]]*)\]/.exec(part);
    if (!m) {
      steps.push(part);
      continue;
    }
    steps.push(m[1] as string);
    const n = Number.parseInt(m[2] as string, 10);
    steps.push(Number.isNaN(n) ? 0 : n);
  }
  return steps;
}

/** json-c's json_object_get_string: a string bare, anything else as json-c prints it (spaced). */
export function jsonCText(v: Json): string {
  if (typeof v === "string") return v;
  return jsonCDump(v);
}

function jsonCString(s: string): string {
  return JSON.stringify(s).replace(/\//g, "\\/");
}

function jsonCDump(v: Json): string {
  if (v === null || typeof v !== "object") return typeof v === "string" ? jsonCString(v) : String(v);
  if (Array.isArray(v)) return v.length === 0 ? "[ ]" : `[ ${v.map(jsonCDump).join(", ")} ]`;
  const keys = Object.keys(v);
  if (keys.length === 0) return "{ }";
  return `{ ${keys.map((k) => `${jsonCString(k)}: ${jsonCDump(v[k] as Json)}`).join(", ")} }`;
}

export type { Json };
