// htable table definitions, in Kamailio's string form "a=>size=4;autoexpire=60;initval=0" (one
// string, or an array of them) or as objects { a: { size: 4, autoexpire: 60, initval: 0 } }.
// Database, DMQ and column options are Kamailio features evsip does not have: they are refused
// by name at load instead of silently ignored.
import type { ErrorCode } from "../../errors.js";

/** Options of one table. */
export interface TableOptions {
  /** Kamailio's bucket count exponent (2^size); evsip's Map grows by itself, so it is only checked (1..31). */
  size?: number;
  /** Seconds after which an item expires (0 = never). Fractions allowed (evsip extension, for tests). */
  autoexpire?: number;
  /** Value a missing item reads as, and the base of inc/dec on a missing item. */
  initval?: number;
  /** When true (default, as Kamailio), setting an item restarts its expiry. */
  updateexpire?: boolean;
}

/** A validated table definition. */
export interface TableSpec {
  readonly name: string;
  readonly size: number;
  readonly autoexpire: number;
  readonly initval: number | undefined;
  readonly updateexpire: boolean;
}

/** What the `htable` param accepts. */
export type TablesParam = string | readonly string[] | Readonly<Record<string, TableOptions>>;

type Result = { ok: true; tables: TableSpec[] } | { ok: false; code: ErrorCode; detail: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const UNSUPPORTED = new Set(["dbtable", "dbmode", "cols", "dmqreplicate", "coldelim", "colnull"]);

function bad(detail: string): Result {
  return { ok: false, code: "ERR_HTABLE_BAD_SPEC", detail };
}

/** Parses one Kamailio string "name=>k=v;k=v" into a name and raw options. */
function parseString(def: string): { name: string; opts: Record<string, unknown> } | string {
  const at = def.indexOf("=>");
  if (at < 0) return `${JSON.stringify(def)}: expected name=>options`;
  const name = def.slice(0, at).trim();
  const opts: Record<string, unknown> = {};
  for (const part of def.slice(at + 2).split(";")) {
    const p = part.trim();
    if (p === "") continue;
    const eq = p.indexOf("=");
    if (eq < 0) return `${JSON.stringify(def)}: option ${JSON.stringify(p)} has no value`;
    const k = p.slice(0, eq).trim();
    const v = p.slice(eq + 1).trim();
    opts[k] = k === "updateexpire" ? v !== "0" : Number(v);
  }
  return { name, opts };
}

function checkOne(name: string, o: Record<string, unknown>): TableSpec | string {
  if (!NAME.test(name)) return `table name ${JSON.stringify(name)} is not valid`;
  for (const k of Object.keys(o)) {
    if (UNSUPPORTED.has(k)) return `table ${name}: option ${k} is not supported by evsip (no database or DMQ)`;
    if (!["size", "autoexpire", "initval", "updateexpire"].includes(k)) return `table ${name}: unknown option ${k}`;
  }
  const size = o.size ?? 8;
  if (typeof size !== "number" || !Number.isInteger(size) || size < 1 || size > 31) return `table ${name}: size must be 1..31`;
  const autoexpire = o.autoexpire ?? 0;
  if (typeof autoexpire !== "number" || !Number.isFinite(autoexpire) || autoexpire < 0) {
    return `table ${name}: autoexpire must be seconds >= 0`;
  }
  const initval = o.initval;
  if (initval !== undefined && (typeof initval !== "number" || !Number.isInteger(initval))) {
    return `table ${name}: initval must be an integer`;
  }
  const updateexpire = o.updateexpire ?? true;
  if (typeof updateexpire !== "boolean") return `table ${name}: updateexpire must be true or false`;
  return { name, size, autoexpire, initval, updateexpire };
}

/**
 * Validates the `htable` param in any of its forms. Never throws.
 *
 * @example
 * parseTables("a=>size=4;autoexpire=60;initval=0");
 * parseTables({ a: { size: 4, autoexpire: 60 } });
 */
export function parseTables(param: unknown): Result {
  const raw: Array<{ name: string; opts: Record<string, unknown> }> = [];
  if (typeof param === "string" || Array.isArray(param)) {
    for (const def of typeof param === "string" ? [param] : (param as unknown[])) {
      if (typeof def !== "string") return bad('every array entry must be a string like "a=>size=4"');
      const r = parseString(def);
      if (typeof r === "string") return bad(r);
      raw.push(r);
    }
  } else if (typeof param === "object" && param !== null) {
    for (const [name, opts] of Object.entries(param)) {
      if (typeof opts !== "object" || opts === null) return bad(`table ${name}: options must be an object`);
      raw.push({ name, opts: opts as Record<string, unknown> });
    }
  } else {
    return bad("must be a string, an array of strings or an object of tables");
  }
  const tables: TableSpec[] = [];
  const seen = new Set<string>();
  for (const { name, opts } of raw) {
    if (seen.has(name)) return bad(`table ${name} is declared twice`);
    seen.add(name);
    const t = checkOne(name, opts);
    if (typeof t === "string") return bad(t);
    tables.push(t);
  }
  return { ok: true, tables };
}
