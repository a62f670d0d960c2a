// Pseudo-variables by their Kamailio spelling ("$fU", "$hdr(X-Id)", "$sht(a=>k)"). A spec string is
// compiled once into a getter/setter pair and cached, so ctx.pv("$fU") costs one Map lookup. Modules
// register their own classes ($evapi, $sht, $T) through the same registry.
import { EvsipError } from "../errors.js";

export type PvValue = string | number | null;

/** One pseudo-variable class: `$name` or `$name(arg)`. `arg` is already expanded when it held PVs. */
export interface PvClass<C> {
  get(ctx: C, arg: string | undefined): PvValue;
  set?(ctx: C, arg: string | undefined, value: PvValue): void;
}

export interface CompiledPv<C> {
  readonly spec: string;
  get(ctx: C): PvValue;
  set(ctx: C, value: PvValue): void;
}

const SPEC = /^\$(?:\(([A-Za-z_][A-Za-z0-9_.]*)(?:\((.*)\))?\)|([A-Za-z_][A-Za-z0-9_.]*)(?:\((.*)\))?)$/s;

export class PvRegistry<C> {
  private readonly classes = new Map<string, PvClass<C>>();
  private readonly cache = new Map<string, CompiledPv<C>>();
  /** Expands `$…` inside an argument ("$sht(a=>calls-to::$rd)"); set by the formatter. */
  expandArg: ((ctx: C, text: string) => string) | undefined;

  register(name: string, cls: PvClass<C>): void {
    this.classes.set(name, cls);
    this.cache.clear();
  }

  has(name: string): boolean {
    return this.classes.has(name);
  }

  /** Compiles a spec once; throws EvsipError(ERR_PV_UNKNOWN) for an unknown class or bad syntax. */
  compile(spec: string): CompiledPv<C> {
    const hit = this.cache.get(spec);
    if (hit) return hit;
    const m = SPEC.exec(spec.trim());
    const name = m ? (m[1] ?? m[3]) : undefined;
    const cls = name ? this.classes.get(name) : undefined;
    if (!m || !name || !cls) throw new EvsipError("ERR_PV_UNKNOWN", `unknown pseudo-variable ${spec}`);
    const compiled = this.build(spec, name, cls, m[2] ?? m[4]);
    if (this.cache.size > 10_000) this.cache.clear(); // bound memory if specs are built dynamically
    this.cache.set(spec, compiled);
    return compiled;
  }

  private build(spec: string, name: string, cls: PvClass<C>, rawArg: string | undefined): CompiledPv<C> {
    const dynamic = rawArg !== undefined && rawArg.includes("$");
    const argOf = dynamic ? (ctx: C) => (this.expandArg ? this.expandArg(ctx, rawArg) : rawArg) : () => rawArg;
    return {
      spec,
      get: (ctx) => cls.get(ctx, argOf(ctx)),
      set: (ctx, value) => {
        if (!cls.set) throw new EvsipError("ERR_PV_READONLY", `pseudo-variable $${name} is read-only`);
        cls.set(ctx, argOf(ctx), value);
      },
    };
  }
}
