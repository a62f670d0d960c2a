// Kamailio-style format strings: "call from $fU to $(rU) via $hdr(Via)". A template is compiled
// once into literal and PV parts and cached; unknown PVs are kept as literal text so a typo shows up
// in the output instead of throwing mid-call. `\$` is a literal dollar.
import type { CompiledPv, PvRegistry } from "./pv-registry.js";

type Part<C> = string | CompiledPv<C>;

/** Index just past the ')' that closes the '(' at `open`, or -1 when it is never closed. */
function closeParen(s: string, open: number): number {
  let depth = 0;
  for (let j = open; j < s.length; j++) {
    if (s[j] === "(") depth++;
    else if (s[j] === ")" && --depth === 0) return j + 1;
  }
  return -1;
}

/** Finds the end of `$name(arg)` / `$(name(arg))` starting at `i` (the '$'); returns -1 if not a PV. */
function pvEnd(s: string, i: number): number {
  let j = i + 1;
  if (s[j] === "(") return closeParen(s, j);
  const start = j;
  while (j < s.length && /[A-Za-z0-9_.]/.test(s[j] as string)) j++;
  if (j === start) return -1;
  return s[j] === "(" ? closeParen(s, j) : j;
}

export class Formatter<C> {
  private readonly cache = new Map<string, Part<C>[]>();

  private readonly pvs: PvRegistry<C>;

  constructor(pvs: PvRegistry<C>) {
    this.pvs = pvs;
    pvs.expandArg = (ctx, text) => this.format(ctx, text);
  }

  /** Expands every PV in `template` for ctx; null values print as "<null>" (as xlog does). */
  format(ctx: C, template: string): string {
    const parts = this.compile(template);
    let out = "";
    for (const p of parts) {
      if (typeof p === "string") out += p;
      else {
        const v = p.get(ctx);
        out += v === null ? "<null>" : String(v);
      }
    }
    return out;
  }

  private compile(template: string): Part<C>[] {
    const hit = this.cache.get(template);
    if (hit) return hit;
    const parts: Part<C>[] = [];
    let lit = "";
    for (let i = 0; i < template.length;) {
      const ch = template[i] as string;
      if (ch === "\\" && template[i + 1] === "$") {
        lit += "$";
        i += 2;
        continue;
      }
      if (ch !== "$") {
        lit += ch;
        i++;
        continue;
      }
      const end = pvEnd(template, i);
      const spec = end > 0 ? template.slice(i, end) : "";
      let compiled: CompiledPv<C> | undefined;
      try {
        compiled = spec ? this.pvs.compile(spec) : undefined;
      } catch {
        compiled = undefined;
      }
      if (!compiled) {
        lit += ch;
        i++;
        continue;
      }
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
