// Stateless identifiers that must be the same for retransmissions of one request: stateless
// branches (RFC 3261 §16.11) and sl To-tags, 64 bits from two differently seeded FNV-1a passes.
// hash64hexJoined hashes parts joined by a separator without building the joined string (the sl
// To-tag runs once per stateless reply); it equals hash64hex(parts.join(sep)).
import { FNV1A_OFFSET_BASIS, fnv1a, fnv1aUnit } from "./fnv1a.js";

const SEED_B = 0x050c5d1f;

function hex8(h: number): string {
  return h.toString(16).padStart(8, "0");
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
