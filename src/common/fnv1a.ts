// FNV-1a, 32 bit (Fowler, Noll, Vo): a cheap, stable, non-cryptographic hash for values that must
// come out the same for equal inputs, such as a retransmission of one request: tm's bucket index,
// stateless branches and sl To-tags. Over UTF-16 code units; a hash can be continued, so callers
// hash several parts with separators without building the joined string.

/** The FNV-1a 32-bit offset basis: where a hash starts. */
export const FNV1A_OFFSET_BASIS = 0x811c9dc5;
const FNV1A_PRIME = 0x01000193;

/** `h` continued by one code unit (a separator, say). */
export function fnv1aUnit(h: number, unit: number): number {
  return Math.imul(h ^ unit, FNV1A_PRIME) >>> 0;
}

/**
 * FNV-1a over the code units of `s`, continuing from `h` (the offset basis, or a seed of one's own).
 * @example fnv1a("abc") // 0x1a47e90b
 */
export function fnv1a(s: string, h: number = FNV1A_OFFSET_BASIS): number {
  let x = h >>> 0;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), FNV1A_PRIME) >>> 0;
  return x;
}

/**
 * A 53-bit hash of `s` (fits a double exactly): two FNV-1a runs with different bases, in one pass
 * over the string. For keys remembered by their hash alone, where 32 bits collide too often.
 * @example fnv1a53("abc") === fnv1a("abc") * 0x200000 + (fnv1a("abc", 0x050c5d1f) & 0x1fffff) // true
 */
export function fnv1a53(s: string): number {
  let a = FNV1A_OFFSET_BASIS;
  let b = 0x050c5d1f;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, FNV1A_PRIME) >>> 0;
    b = Math.imul(b ^ c, FNV1A_PRIME) >>> 0;
  }
  return a * 0x200000 + (b & 0x1fffff);
}
