// Kamailio's message flags (setflag/isflagset, $mf) and branch flags (setbflag/isbflagset, $bf):
// 32 bits each. A request route owns its set until the request has a transaction; tm then keeps a
// copy with it (at creation, t_relay and t_suspend, as Kamailio stores them in the transaction's
// request), and the reply, failure and continue routes of that transaction share that copy, so
// what one of them sets the next one sees (src/tu/script-state.ts).

/** The highest flag number (Kamailio's MAX_FLAG: flags are the bits of a 32-bit word). */
export const MAX_FLAG = 31;

/** The two flag words of a route run or of a transaction. */
export interface FlagState {
  /** Message flags: bit n is flag n. */
  msg: number;
  /** Branch flags of branch 0 (evsip keeps one set per transaction). */
  branch: number;
}

/** True when n is a flag number (an integer 0..31). */
export function isFlag(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_FLAG;
}

/** The word with bit n set or cleared, as an unsigned 32-bit value. */
export function withBit(word: number, n: number, on: boolean): number {
  return (on ? word | (1 << n) : word & ~(1 << n)) >>> 0;
}

/** Whether bit n of word is set. */
export function hasBit(word: number, n: number): boolean {
  return ((word >>> n) & 1) === 1;
}
