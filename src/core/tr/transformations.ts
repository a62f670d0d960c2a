// Compiles the `{name,p1,p2}` parts of `$(pv{…}{…})` once into a chain applied to the value at run
// time. Names and parameter counts are checked at compile time (ERR_TR_UNKNOWN); a parameter that
// holds `$…` is expanded per run. A null value, or a transformation that fails on its input (an
// offset out of range, text that is not a URI), gives null, as Kamailio's failed transformation.
import { EvsipError } from "../../errors.js";
import type { PvValue } from "../pv-registry.js";
import { closing } from "../pv-spec.js";
import { JSON_TRS } from "./tr-json.js";
import { SIP_TRS } from "./tr-sip.js";
import { STRING_TRS } from "./tr-string.js";
import type { TrDef } from "./tr-types.js";

const TABLE: ReadonlyMap<string, TrDef> = new Map([...STRING_TRS, ...SIP_TRS, ...JSON_TRS]);

/** Splits "s.substr,1,$var(n)" at commas that are not inside a `$(…)` or `(…)`. */
function splitParams(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") {
      const e = closing(text, i, "(", ")");
      if (e > 0) i = e - 1;
    } else if (text[i] === ",") {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

export type Expand<C> = (ctx: C, text: string) => string;

/** One compiled chain; `apply` runs every step in order. */
export type TrChain<C> = (ctx: C, value: PvValue) => PvValue;

function compileOne<C>(text: string, expand: Expand<C>): TrChain<C> {
  const [name = "", ...params] = splitParams(text);
  // {s.select,i,,}: Kamailio takes the separator as the raw character after the comma.
  if (name === "s.select" && params.length === 3 && params[1] === "" && params[2] === "") params.splice(1, 2, ",");
  const def = TABLE.get(name.trim());
  if (!def) throw new EvsipError("ERR_TR_UNKNOWN", `unknown transformation {${text}}`);
  if (params.length < def.min || params.length > def.max) {
    const want = def.min === def.max ? `${def.min}` : `${def.min} to ${def.max}`;
    throw new EvsipError("ERR_TR_UNKNOWN", `transformation {${text}} takes ${want} parameter(s), got ${params.length}`);
  }
  const dynamic = params.some((p) => p.includes("$"));
  return (ctx, v) => {
    if (v === null) return null;
    return def.apply(v, dynamic ? params.map((p) => (p.includes("$") ? expand(ctx, p) : p)) : params);
  };
}

/** Compiles each `{…}` text of one reference, in order; throws ERR_TR_UNKNOWN. */
export function compileTransformations<C>(texts: readonly string[], expand: Expand<C>): TrChain<C> | undefined {
  if (texts.length === 0) return undefined;
  const steps = texts.map((t) => compileOne(t, expand));
  return (ctx, v) => {
    for (const s of steps) v = s(ctx, v);
    return v;
  };
}
