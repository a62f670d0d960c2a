// One htable table: items with optional expiry kept in a Map, and one timer wheel per table (slots of
// `tick` ms holding the keys due in them) swept by a single interval — never a timer per item. An
// item past its expiry reads as absent at once; the sweep removes it and reports it (the
// htable:expired:<table> event), as it does an expired item that a set or a delete reached before
// the sweep. Values are Kamailio's two kinds: integers and strings.
import { ownCopy } from "../../common/own-copy.js";
import type { TableSpec } from "./table-spec.js";

/** A stored value: Kamailio items are integers or strings. */
export type HtValue = string | number;

interface Item {
  value: HtValue;
  /** Epoch ms when it expires; 0 = never. */
  expires: number;
  /** Wheel slot it sits in, or -1. */
  slot: number;
}

/** What an expiry sweep reports per item. */
export interface ExpiredItem {
  readonly key: string;
  readonly value: HtValue;
}

export class HashTable {
  readonly spec: TableSpec;
  readonly stats = { sets: 0, deletes: 0, expired: 0, sweeps: 0 };
  private readonly items = new Map<string, Item>();
  private readonly wheel = new Map<number, Set<string>>();
  /** Expired items a set or a delete reached before the sweep did: the next sweep reports them first. */
  private readonly expiredEarly: ExpiredItem[] = [];
  private readonly tick: number;
  private lastSlot: number;
  private readonly now: () => number;

  constructor(spec: TableSpec, tick: number, now: () => number = Date.now) {
    this.spec = spec;
    this.tick = tick;
    this.now = now;
    this.lastSlot = Math.floor(now() / tick);
  }

  get size(): number {
    return this.items.size;
  }

  /** Items waiting in the wheel. */
  get scheduled(): number {
    let n = 0;
    for (const s of this.wheel.values()) n += s.size;
    return n;
  }

  private live(key: string): Item | undefined {
    const it = this.items.get(key);
    return it && (it.expires === 0 || it.expires > this.now()) ? it : undefined;
  }

  /** The value, else initval, else undefined. */
  get(key: string): HtValue | undefined {
    return this.live(key)?.value ?? this.spec.initval;
  }

  exists(key: string): boolean {
    return this.live(key) !== undefined;
  }

  set(key: string, value: HtValue): void {
    this.stats.sets++;
    // Keys and values are often a header's text (a slice of its message's head): kept on their own
    // (the key too on an update: the expiry wheel keeps the one it is given).
    key = ownCopy(key);
    if (typeof value === "string") value = ownCopy(value);
    const it = this.items.get(key);
    if (it && (it.expires === 0 || it.expires > this.now())) {
      it.value = value;
      if (this.spec.updateexpire && this.spec.autoexpire > 0) this.schedule(key, it, this.spec.autoexpire * 1000);
      return;
    }
    if (it) this.expiredBeforeSweep(key, it); // not live: past its expiry, not yet swept
    const fresh: Item = { value, expires: 0, slot: -1 };
    this.items.set(key, fresh);
    if (this.spec.autoexpire > 0) this.schedule(key, fresh, this.spec.autoexpire * 1000);
  }

  /** Adds `delta` to an integer item (a missing one starts at initval or 0). undefined for a string item. */
  add(key: string, delta: number): number | undefined {
    const it = this.live(key);
    const base = it ? it.value : (this.spec.initval ?? 0);
    if (typeof base !== "number") return undefined;
    const v = base + delta;
    this.set(key, v);
    return v;
  }

  delete(key: string): boolean {
    const it = this.items.get(key);
    if (!it) return false;
    this.items.delete(key);
    if (it.expires !== 0 && it.expires <= this.now()) {
      this.expiredBeforeSweep(key, it);
      return false;
    }
    this.unschedule(key, it);
    this.stats.deletes++;
    return true;
  }

  /** An item past its expiry that a set or a delete reached first still expires: its event must run. */
  private expiredBeforeSweep(key: string, it: Item): void {
    this.unschedule(key, it);
    this.stats.expired++;
    this.expiredEarly.push({ key, value: it.value });
  }

  /** Seconds until the item expires (0 = never); undefined when absent. */
  expiresIn(key: string): number | undefined {
    const it = this.live(key);
    if (!it) return undefined;
    return it.expires === 0 ? 0 : Math.max(0, Math.ceil((it.expires - this.now()) / 1000));
  }

  /** Sets the item's expiry to `seconds` from now (0 = never). False when absent. */
  setExpire(key: string, seconds: number): boolean {
    const it = this.live(key);
    if (!it) return false;
    if (seconds <= 0) this.unschedule(key, it);
    else this.schedule(key, it, seconds * 1000);
    return true;
  }

  /** Removes every expired item and returns them, oldest slot first. */
  sweep(): ExpiredItem[] {
    this.stats.sweeps++;
    const now = this.now();
    const upTo = Math.floor(now / this.tick);
    const out: ExpiredItem[] = this.expiredEarly.splice(0);
    if (this.wheel.size === 0) {
      this.lastSlot = upTo;
      return out;
    }
    for (let s = this.lastSlot; s <= upTo; s++) {
      const keys = this.wheel.get(s);
      if (!keys) continue;
      for (const key of keys) {
        const it = this.items.get(key);
        if (!it || it.expires > now) continue; // due in the same slot but later in it: next sweep
        keys.delete(key);
        this.items.delete(key);
        this.stats.expired++;
        out.push({ key, value: it.value });
      }
      if (keys.size === 0) this.wheel.delete(s);
    }
    // Keep the last slot: it may still hold items due later within it.
    this.lastSlot = upTo;
    return out;
  }

  private schedule(key: string, it: Item, ms: number): void {
    this.unschedule(key, it);
    it.expires = this.now() + ms;
    it.slot = Math.max(Math.floor(it.expires / this.tick), this.lastSlot);
    const set = this.wheel.get(it.slot);
    if (set) set.add(key);
    else this.wheel.set(it.slot, new Set([key]));
  }

  private unschedule(key: string, it: Item): void {
    it.expires = 0;
    if (it.slot < 0) return;
    const set = this.wheel.get(it.slot);
    set?.delete(key);
    if (set?.size === 0) this.wheel.delete(it.slot);
    it.slot = -1;
  }
}
