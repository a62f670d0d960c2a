// Stateless identifiers that must be the same for retransmissions of one request: stateless
// branches (RFC 3261 §16.11) and sl To-tags, 64 bits from two differently seeded FNV-1a passes.
// hash64hexJoined hashes parts joined by a separator without building the joined string (the sl
// To-tag runs once per stateless reply); it equals hash64hex(parts.join(sep)).
import { FNV1A_OFFSET_BASIS, fnv1a, fnv1aUnit } from "./fnv1a.js";

const SEED_B = 0x050c5d1f;

/** "00".."ff". */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * h (32 bits, unsigned) as 8 hex digits. A table, not `toString(16).padStart(8, "0")`: that took
 * ~500 ns here against ~90, twice per stateless reply (its To-tag).
 */
function hex8(h: number): string {
  return (HEX2[h >>> 24] as string) + HEX2[(h >>> 16) & 255] + HEX2[(h >>> 8) & 255] + HEX2[h & 255];
}

/** 16 hex chars from two differently seeded FNV-1a passes. */
export function hash64hex(s: string): string {
  return hex8(fnv1a(s)) + hex8(fnv1a(s, SEED_B));
}

/** hash64hex(`${a}${sep}${b}${sep}${c}`) without building that string; `sep` is one char code. */
export function hash64hexJoined(a: string, b: string, c: string, sep: number): string {
  const joined = (seed: number): number => fnv1a(c, fnv1aUnit(fnv1a(b, fnv1aUnit(fnv1a(a, seed), sep)), sep));
  return hex8(joined(FNV1A_OFFSET_BASIS)) + hex8(joined(SEED_B));
}
