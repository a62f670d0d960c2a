// A Map for entries that come and go fast (transactions, requests in flight), kept at a size at
// which V8 does not replace its hash table under churn.
//
// Why: V8 replaces a Map's table when inserts fill it, and the replaced table keeps pointing at its
// successor and at the entries it held (for iterators still walking it). With a few live entries
// and constant churn the table is small and replaced every few inserts. Once one replaced table
// has been promoted to the old generation, the chain behind it keeps every later table, and every
// entry they held, alive through the young-generation collections until the next full one. At
// 2,000 relayed calls/s that copied and promoted ~450 KB per scavenge (whole transactions), and the
// scavenges took 1.9 ms; with the table held large, nothing was promoted and they took 0.6 ms.
//
// How: FILL private keys stay in the map for good, so the table never shrinks below 2·FILL slots
// and is only compacted once per ~FILL inserts, in a table large enough to be allocated in the old
// generation directly. They cost about 100 KB per map and are invisible through this API.

const FILL = 4096;
const FILLERS: readonly symbol[] = Array.from({ length: FILL }, () => Symbol("steady-map filler"));

export class SteadyMap<K extends string | number, V> {
  private readonly map = new Map<K | symbol, V | undefined>();

  constructor() {
    this.fill();
  }

  get size(): number {
    return this.map.size - FILL;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    this.map.set(key, value);
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  *values(): IterableIterator<V> {
    for (const [k, v] of this.map) if (typeof k !== "symbol") yield v as V;
  }

  clear(): void {
    this.map.clear();
    this.fill();
  }

  private fill(): void {
    for (const f of FILLERS) this.map.set(f, undefined);
  }
}
