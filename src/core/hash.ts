// A cheap, stable, non-cryptographic string hash (FNV-1a, 32 bit) for values that must be the same
// for retransmissions of one request: stateless branches (RFC 3261 §16.11) and sl To-tags.
// hash64hexJoined hashes parts joined by a separator without building the joined string (the sl
// To-tag runs once per stateless reply); it equals hash64hex(parts.join(sep)).

const SEED_A = 0x811c9dc5;
const SEED_B = 0x050c5d1f;
const PRIME = 0x01000193;

/** FNV-1a over the UTF-16 code units of `s`, from `seed`. */
export function fnv1a(s: string, seed = SEED_A): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, PRIME) >>> 0;
  }
  return h >>> 0;
}

function hex8(h: number): string {
  return h.toString(16).padStart(8, "0");
}

/** 16 hex chars from two differently seeded FNV-1a passes. */
export function hash64hex(s: string): string {
  return hex8(fnv1a(s)) + hex8(fnv1a(s, SEED_B));
}

/** hash64hex(`${a}${sep}${b}${sep}${c}`) without building that string; `sep` is one char code. */
export function hash64hexJoined(a: string, b: string, c: string, sep: number): string {
  let ha = SEED_A;
  let hb = SEED_B;
  for (let p = 0; p < 3; p++) {
    const s = p === 0 ? a : p === 1 ? b : c;
    if (p > 0) {
      ha = Math.imul(ha ^ sep, PRIME) >>> 0;
      hb = Math.imul(hb ^ sep, PRIME) >>> 0;
    }
    for (let i = 0; i < s.length; i++) {
      const ch = s.charCodeAt(i);
      ha = Math.imul(ha ^ ch, PRIME) >>> 0;
      hb = Math.imul(hb ^ ch, PRIME) >>> 0;
    }
  }
  return hex8(ha) + hex8(hb);
}
