// Kamailio-style format strings: "call from $fU to $(rU) via $(hdr(Via)[0]{s.len})". A template is
// compiled once into literal and PV parts and cached. A '$' followed by a name character or '(' is a
// reference, and an unknown one throws (ERR_PV_UNKNOWN, ERR_PV_UNSUPPORTED, ERR_TR_UNKNOWN) as
// Kamailio refuses it at cfg load: a typo never reaches a peer as text. `\$` and `$$` are a literal
// dollar, and so is a '$' that starts no reference ("cost: 5 $").
import { parsePvAt, startsPv } from "./pv-spec.js";
import type { CompiledPv, PvRegistry } from "./pv-registry.js";

type Part<C> = string | CompiledPv<C>;

export class Formatter<C> {
  private readonly cache = new Map<string, Part<C>[]>();

  private readonly pvs: PvRegistry<C>;

  constructor(pvs: PvRegistry<C>) {
    this.pvs = pvs;
    pvs.expandArg = (ctx, text) => this.format(ctx, text);
  }

  /**
   * Expands every PV in `template` for ctx; null values print as "<null>", and a transformation
   * that fails (or gets null) prints "", as Kamailio's xlog does.
   */
  format(ctx: C, template: string): string {
    const parts = this.compile(template);
    let out = "";
    for (const p of parts) {
      if (typeof p === "string") out += p;
      else {
        const v = p.get(ctx);
        out += v === null ? p.nullText : String(v);
      }
    }
    return out;
  }

  /** Throws the first unknown reference in `template` (for load-time checks of literal templates). */
  check(template: string): void {
    this.compile(template);
  }

  private compile(template: string): Part<C>[] {
    const hit = this.cache.get(template);
    if (hit) return hit;
    const parts: Part<C>[] = [];
    let lit = "";
    for (let i = 0; i < template.length;) {
      const ch = template[i] as string;
      if ((ch === "\\" || ch === "$") && template[i + 1] === "$") {
        lit += "$";
        i += 2;
        continue;
      }
      if (ch !== "$" || !startsPv(template, i)) {
        lit += ch;
        i++;
        continue;
      }
      const r = parsePvAt(template, i);
      const end = r.ok ? r.spec.end : template.length;
      const compiled = this.pvs.compile(template.slice(i, end));
      if (lit) parts.push(lit);
      lit = "";
      parts.push(compiled);
      i = end;
    }
    if (lit) parts.push(lit);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(template, parts);
    return parts;
  }
}
