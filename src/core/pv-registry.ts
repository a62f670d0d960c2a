// Pseudo-variables by their Kamailio spelling ("$fU", "$hdr(X-Id)", "$(avp(a)[1]{s.len})"). A spec
// string is compiled once into a getter/setter pair and cached, so ctx.pv("$fU") costs one Map lookup.
// Modules register their own classes ($evapi, $sht, $T) through the same registry. Unknown names,
// bad syntax and unknown transformations throw at compile time, never pass through as text.
import { EvsipError } from "../errors.js";
import { parsePvAt } from "./pv-spec.js";
import { compileTransformations, type TrChain } from "./tr/transformations.js";

export type PvValue = string | number | null;

/** `[n]` (negative counts from the end) or `[*]` (every value). */
export type PvIndex = number | "*";

/** One pseudo-variable class: `$name` or `$name(arg)`. `arg` is already expanded when it held PVs. */
export interface PvClass<C> {
  get(ctx: C, arg: string | undefined): PvValue;
  set?(ctx: C, arg: string | undefined, value: PvValue): void;
  /** `$(name(arg)[index])`: classes that hold several values ($hdr, $avp, $xavp) read one of them. */
  getAt?(ctx: C, arg: string | undefined, index: PvIndex): PvValue;
  /** `$(name(arg)[*]) = v` and other indexed writes. */
  setAt?(ctx: C, arg: string | undefined, index: PvIndex, value: PvValue): void;
  /** The inner name is itself a spec ($T_req($hdr(X))): it is not expanded before the call. */
  readonly innerIsSpec?: boolean;
  /** Checks a literal inner name at compile time; returns why it is wrong, or undefined. */
  checkArg?(arg: string | undefined): string | undefined;
}

export interface CompiledPv<C> {
  readonly spec: string;
  /** What ctx.fmt prints for null: "<null>", or "" when transformations failed (Kamailio's xlog). */
  readonly nullText: string;
  get(ctx: C): PvValue;
  set(ctx: C, value: PvValue): void;
}

export class PvRegistry<C> {
  private readonly classes = new Map<string, PvClass<C>>();
  private readonly refused = new Map<string, string>();
  private readonly cache = new Map<string, CompiledPv<C>>();
  /** Expands `$…` inside an argument ("$sht(a=>calls-to::$rd)"); set by the formatter. */
  expandArg: ((ctx: C, text: string) => string) | undefined;

  register(name: string, cls: PvClass<C>): void {
    this.classes.set(name, cls);
    this.cache.clear();
  }

  /** A Kamailio name evsip knows but cannot give a meaning: compiling it throws with `reason`. */
  refuse(name: string, reason: string): void {
    this.refused.set(name, reason);
  }

  /**
   * Compiles a spec once; throws EvsipError ERR_PV_UNKNOWN (unknown class or bad syntax),
   * ERR_PV_UNSUPPORTED (a Kamailio name with no meaning in evsip) or ERR_TR_UNKNOWN.
   */
  compile(spec: string): CompiledPv<C> {
    const hit = this.cache.get(spec);
    if (hit) return hit;
    const text = spec.trim();
    const r = text.startsWith("$") ? parsePvAt(text, 0) : undefined;
    if (!r?.ok || r.spec.end !== text.length) {
      const why = r && !r.ok ? `: ${r.detail}` : "";
      throw new EvsipError("ERR_PV_UNKNOWN", `not a pseudo-variable: ${spec}${why}`);
    }
    const { name, inner, index, trans } = r.spec;
    const reason = this.refused.get(name);
    if (reason !== undefined) throw new EvsipError("ERR_PV_UNSUPPORTED", `$${name} is not supported in evsip: ${reason}`);
    const cls = this.classes.get(name);
    if (!cls) {
      // '.' is a name character (as in Kamailio): "$fU." names "fU.".
      const bare = name.replace(/\.+$/, "");
      const hint = bare !== name && this.classes.has(bare) ? ` (a '.' continues the name: write $(${bare}) before it)` : "";
      throw new EvsipError("ERR_PV_UNKNOWN", `unknown pseudo-variable $${name} in ${spec}${hint}`);
    }
    const bad = inner !== undefined && inner.includes("$") && !cls.innerIsSpec ? undefined : cls.checkArg?.(inner);
    if (bad !== undefined) throw new EvsipError("ERR_PV_UNKNOWN", `${spec}: ${bad}`);
    if (index !== undefined && !cls.getAt) throw new EvsipError("ERR_PV_UNKNOWN", `$${name} takes no index: ${spec}`);
    const tr = compileTransformations<C>(trans, (ctx, t) => this.expand(ctx, t));
    const compiled = this.build(spec, name, cls, inner, index, tr);
    if (this.cache.size > 10_000) this.cache.clear(); // bound memory if specs are built dynamically
    this.cache.set(spec, compiled);
    return compiled;
  }

  private expand(ctx: C, text: string): string {
    return this.expandArg ? this.expandArg(ctx, text) : text;
  }

  private build(
    spec: string,
    name: string,
    cls: PvClass<C>,
    rawArg: string | undefined,
    rawIndex: string | undefined,
    tr: TrChain<C> | undefined,
  ): CompiledPv<C> {
    const dynamic = rawArg !== undefined && rawArg.includes("$") && !cls.innerIsSpec;
    const argOf = dynamic ? (ctx: C) => this.expand(ctx, rawArg) : () => rawArg;
    const indexOf = this.indexReader(spec, rawIndex);
    let get: (ctx: C) => PvValue = (ctx) => cls.get(ctx, argOf(ctx));
    if (indexOf && cls.getAt) {
      const getAt = cls.getAt.bind(cls);
      get = (ctx) => {
        const i = indexOf(ctx);
        return i === undefined ? null : getAt(ctx, argOf(ctx), i);
      };
    }
    const plain = get;
    if (tr) get = (ctx) => tr(ctx, plain(ctx));
    return {
      spec,
      nullText: tr ? "" : "<null>",
      get,
      set: (ctx, value) => {
        if (tr || (indexOf ? !cls.setAt : !cls.set))
          throw new EvsipError("ERR_PV_READONLY", `pseudo-variable ${spec} is read-only`);
        const i = indexOf?.(ctx);
        if (indexOf && cls.setAt) {
          if (i !== undefined) cls.setAt(ctx, argOf(ctx), i, value);
        } else cls.set?.(ctx, argOf(ctx), value);
      },
    };
  }

  /** `[n]`, `[-n]`, `[*]` or `[$var(i)]`; a dynamic index that is not an integer reads as null. */
  private indexReader(spec: string, raw: string | undefined): ((ctx: C) => PvIndex | undefined) | undefined {
    if (raw === undefined) return undefined;
    const parse = (t: string): PvIndex | undefined => (t.trim() === "*" ? "*" : /^-?\d+$/.test(t.trim()) ? Number(t) : undefined);
    if (raw.includes("$")) return (ctx) => parse(this.expand(ctx, raw));
    const fixed = parse(raw);
    if (fixed === undefined) throw new EvsipError("ERR_PV_UNKNOWN", `bad index [${raw}] in ${spec}`);
    return () => fixed;
  }
}

/** One value of a list by `[index]` (negative from the end), or all of them joined with `sep`. */
export function pickIndexed(values: readonly PvValue[], index: PvIndex, sep = ","): PvValue {
  if (index === "*") return values.length === 0 ? null : values.map((v) => (v === null ? "<null>" : String(v))).join(sep);
  return values[index < 0 ? values.length + index : index] ?? null;
}
