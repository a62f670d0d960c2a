// Kamailio's transaction identifiers ($T(id_index), $T(id_label)), fixed at creation:
// index = hash(Call-ID, CSeq number) in 0..65535 (tm's 2^16-bucket table), label = a per-bucket
// uint32 counter starting at a random value and post-incremented per transaction (h_table.h).
import { randomInt } from "node:crypto";
import { fnv1a, fnv1aUnit } from "../common/fnv1a.js";

/** Number of buckets (Kamailio T_TABLE_POWER 16). */
export const TM_TABLE_SIZE = 65536;

/**
 * FNV-1a over the Call-ID, a space and the decimal CSeq number, folded to 16 bits. Stable for equal inputs
 * (so a retransmission lands in the same bucket) and always in 0..65535.
 */
export function hashIndex(callId: string, cseq: number): number {
  const h = fnv1a(String(cseq >>> 0), fnv1aUnit(fnv1a(callId), 0x20)); // "<Call-ID> <CSeq>"
  return ((h >>> 16) ^ h) & 0xffff;
}

/** Per-bucket label counters; one instance per TransactionLayer. */
export class LabelCounters {
  private readonly counters = new Uint32Array(TM_TABLE_SIZE);

  constructor() {
    // kam_rand(): 0..2^31-1 per bucket at start.
    for (let i = 0; i < TM_TABLE_SIZE; i++) this.counters[i] = randomInt(0, 0x7fffffff);
  }

  /** The label for a new transaction in `index`'s bucket; wraps at 2^32. */
  next(index: number): number {
    const label = this.counters[index] ?? 0;
    this.counters[index] = (label + 1) >>> 0;
    return label;
  }
}

/**
 * An identifier as an external application echoes it: a non-negative integer or its decimal text.
 * Returns undefined for anything else or a value above `max`.
 */
export function parseIdent(v: number | string, max: number): number | undefined {
  let n: number;
  if (typeof v === "number") n = v;
  else {
    const s = v.trim();
    if (!/^\d{1,10}$/.test(s)) return undefined;
    n = Number(s);
  }
  if (!Number.isInteger(n) || n < 0 || n > max) return undefined;
  return n;
}

/** The registry key of an (index, label) pair: exact in a double (< 2^48). */
export function identKey(index: number, label: number): number {
  return index * 0x100000000 + label;
}
