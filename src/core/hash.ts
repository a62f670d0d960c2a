// A cheap, stable, non-cryptographic string hash (FNV-1a, 32 bit) for values that must be the same
// for retransmissions of one request: stateless branches (RFC 3261 §16.11) and sl To-tags.

/** FNV-1a over the UTF-16 code units of `s`, from `seed`. */
export function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** 16 hex chars from two differently seeded FNV-1a passes. */
export function hash64hex(s: string): string {
  return fnv1a(s).toString(16).padStart(8, "0") + fnv1a(s, 0x050c5d1f).toString(16).padStart(8, "0");
}
