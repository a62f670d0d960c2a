// What tm keeps of ended transactions (tombstones of their keys, and the finals a non-INVITE
// transaction must re-send until Timer J) held without one heap object per entry. Every call
// leaves a few of these behind for 5 to 32 s. As Map entries with their objects they were the only
// thing of a call that outlived a scavenge: at 2,000 relayed calls/s each young-generation
// collection copied ~500 KB of them, twice, and took 2-3 ms, against 0.6 ms without them.
//
// Entries live in typed arrays (ids, expiry times, offsets) and the finals' bytes in one growing
// byte arena, none of which the scavenger copies. Expiry is exact (checked on lookup); memory is
// reclaimed a generation at a time: the newest generation takes the inserts, and once a generation
// is older than the span it is dropped whole, so nothing is swept entry by entry.
import type { TmDestination } from "./types.js";

const GENERATIONS = 4;
const MIN_CAPACITY = 256;

/** Where a generation counts the times its arena grew by copying what it held. */
interface ArenaStats {
  arenaCopies: number;
}

/**
 * One generation: an open-addressing table of 53-bit ids and what goes with them. Keys are stored
 * as id + 1 (exact up to 2^53), so 0 can mean empty.
 */
class Generation {
  keys: Float64Array;
  untils: Float64Array;
  offs: Int32Array;
  lens: Int32Array;
  dests: Int32Array;
  size = 0;
  arena: Buffer | undefined;
  used = 0;
  /** Destinations, interned: a generation sees few distinct peers. */
  readonly destList: TmDestination[] = [];
  private readonly destIndex = new Map<string, number>();

  /** Bytes the arena starts with: about what the generation before used, so steady traffic does not regrow it. */
  private readonly arenaHint: number;

  private readonly stats: ArenaStats;

  constructor(stats: ArenaStats, capacity: number, arenaHint = 0) {
    this.stats = stats;
    this.arenaHint = arenaHint;
    this.keys = new Float64Array(capacity);
    this.untils = new Float64Array(capacity);
    this.offs = new Int32Array(capacity);
    this.lens = new Int32Array(capacity);
    this.dests = new Int32Array(capacity);
  }

  get capacity(): number {
    return this.keys.length;
  }

  /** The slot holding `id`, or -1. Ids are hashes already: their low bits index the table. */
  find(id: number): number {
    const mask = this.keys.length - 1;
    for (let i = (id >>> 0) & mask; ; i = (i + 1) & mask) {
      const k = this.keys[i] as number;
      if (k === id) return i;
      if (k === 0) return -1;
    }
  }

  /** The slot for `id` (existing or new), growing the table past half full. */
  slotFor(id: number): number {
    if (2 * (this.size + 1) > this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    for (let i = (id >>> 0) & mask; ; i = (i + 1) & mask) {
      const k = this.keys[i] as number;
      if (k === id) return i;
      if (k === 0) {
        this.keys[i] = id;
        this.size++;
        return i;
      }
    }
  }

  /** Copies `bytes` into the arena; returns their offset. */
  store(bytes: Buffer): number {
    const need = this.used + bytes.length;
    if (this.arena === undefined || need > this.arena.length) {
      // A new arena rather than a reused one: a view handed out by answer() may still be in a send.
      // Growing copies what it holds (megabytes at thousands of finals a second): the first one is
      // as large as the last generation needed, with a quarter more.
      const first = this.arena === undefined ? this.arenaHint + (this.arenaHint >>> 2) : 0;
      const next = Buffer.allocUnsafeSlow(Math.max(16_384, first, 2 * need));
      if (this.arena !== undefined) {
        this.arena.copy(next, 0, 0, this.used);
        this.stats.arenaCopies++;
      }
      this.arena = next;
    }
    bytes.copy(this.arena, this.used);
    const off = this.used;
    this.used = need;
    return off;
  }

  intern(dest: TmDestination): number {
    const key = `${dest.proto}|${dest.addr}|${dest.port}|${dest.connId ?? ""}`;
    let i = this.destIndex.get(key);
    if (i === undefined) {
      i = this.destList.length;
      this.destList.push(dest);
      this.destIndex.set(key, i);
    }
    return i;
  }

  private grow(): void {
    const next = new Generation(this.stats, 2 * this.keys.length);
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i] as number;
      if (k === 0) continue;
      const j = next.slotFor(k);
      next.untils[j] = this.untils[i] as number;
      next.offs[j] = this.offs[i] as number;
      next.lens[j] = this.lens[i] as number;
      next.dests[j] = this.dests[i] as number;
    }
    this.keys = next.keys;
    this.untils = next.untils;
    this.offs = next.offs;
    this.lens = next.lens;
    this.dests = next.dests;
  }
}

/** What a remembered final gives back: its bytes (a view) and where they went. */
export interface RememberedAnswer {
  readonly buf: Buffer;
  readonly dest: TmDestination;
}

/**
 * Entries keyed by a 53-bit id that expire `ms` after they were added, with `ms` at most the span
 * given at construction (longer ones are cut to it), each optionally carrying bytes and a
 * destination.
 */
export class ExpiringRecords {
  /** Times an arena grew by copying what it held: steady traffic should stop doing it after the first span. */
  arenaCopies = 0;
  private readonly span: number;
  private readonly slice: number;
  /** Newest first. */
  private gens: Generation[] = [];
  private since = 0;

  constructor(spanMs: number) {
    this.span = Math.max(1, spanMs);
    // An entry added at the end of the newest generation is dropped GENERATIONS - 1 slices later.
    this.slice = Math.ceil(this.span / (GENERATIONS - 1));
  }

  /** Entries alive or not yet reclaimed (for tests and gauges). */
  get held(): number {
    let n = 0;
    for (const g of this.gens) n += g.size;
    return n;
  }

  /** Adds `id` until `now + ms`; with `bytes`, keeps a copy of them and `dest` for answer(). */
  add(id: number, now: number, ms: number, bytes?: Buffer, dest?: TmDestination): void {
    const g = this.newest(now);
    const i = g.slotFor(id + 1);
    g.untils[i] = now + Math.min(ms, this.span);
    if (bytes !== undefined && dest !== undefined) {
      g.offs[i] = g.store(bytes);
      g.lens[i] = bytes.length;
      g.dests[i] = g.intern(dest);
    } else {
      g.lens[i] = -1;
    }
  }

  /** True while `id` has an unexpired entry. */
  has(id: number, now: number): boolean {
    return this.locate(id, now) !== undefined;
  }

  /** The bytes and destination kept with `id`, while unexpired. */
  answer(id: number, now: number): RememberedAnswer | undefined {
    const at = this.locate(id, now);
    if (at === undefined) return undefined;
    const [g, i] = at;
    const len = g.lens[i] as number;
    if (len < 0 || g.arena === undefined) return undefined;
    const off = g.offs[i] as number;
    return { buf: g.arena.subarray(off, off + len), dest: g.destList[g.dests[i] as number] as TmDestination };
  }

  clear(): void {
    this.gens = [];
  }

  private locate(id: number, now: number): [Generation, number] | undefined {
    this.rotate(now);
    const key = id + 1;
    // Newest first: an id added again lives in the newer generation.
    for (const g of this.gens) {
      const i = g.find(key);
      if (i >= 0) return (g.untils[i] as number) > now ? [g, i] : undefined;
    }
    return undefined;
  }

  private newest(now: number): Generation {
    this.rotate(now);
    let g = this.gens[0];
    if (g === undefined) {
      g = new Generation(this, MIN_CAPACITY);
      this.gens = [g];
      this.since = now;
    }
    return g;
  }

  /** Starts a new generation every slice, dropping those older than the span. */
  private rotate(now: number): void {
    if (this.gens.length === 0 || now - this.since < this.slice) return;
    const steps = Math.floor((now - this.since) / this.slice);
    this.since += steps * this.slice;
    if (steps >= GENERATIONS) {
      this.gens = [];
      return;
    }
    // The next generation starts as large as the newest grew, its table and its arena: steady
    // traffic does not regrow them.
    const newest = this.gens[0] as Generation;
    const size = Math.max(MIN_CAPACITY, newest.capacity);
    // After a quiet slice (steps > 1) the last generation's bytes say nothing of what comes next.
    const hint = steps === 1 ? newest.used : 0;
    for (let s = 0; s < steps; s++)
      this.gens.unshift(s === steps - 1 ? new Generation(this, size, hint) : new Generation(this, MIN_CAPACITY));
    this.gens.length = Math.min(this.gens.length, GENERATIONS);
  }
}
