// $avp and $xavp values with Kamailio's list semantics. An $avp name holds a stack: assigning adds
// a value on top (index 0 is the newest), assigning null removes the newest ($(avp(x)[*]) = null
// removes all), and `[*]` assigned first clears the list. An $xavp root holds a stack of items,
// each a map of field stacks: `$xavp(r=>f) = v` adds a new item, `$xavp(r[0]=>f) = v` adds a field
// value to an existing one. The store belongs to the request's transaction once it has one, so
// failure, reply and t_continue routes see it, as Kamailio keeps AVPs with the transaction.
import type { PvValue } from "./pv-registry.js";

type Item = Map<string, PvValue[]>;

/** Made for every transaction a route touches, so its two maps wait for the first $avp or $xavp. */
export class AvpStore {
  #avps: Map<string, PvValue[]> | undefined;
  #xavps: Map<string, Item[]> | undefined;

  get avps(): Map<string, PvValue[]> {
    return (this.#avps ??= new Map());
  }

  get xavps(): Map<string, Item[]> {
    return (this.#xavps ??= new Map());
  }
}

/** Kamailio's AVP names: `s:name` and `name` are one AVP, `i:1` a numeric one. */
export function avpKey(name: string): string {
  return name.startsWith("s:") ? name.slice(2) : name;
}

export function avpSet(store: AvpStore, name: string, value: PvValue, all: boolean): void {
  const key = avpKey(name);
  const list = store.avps.get(key) ?? [];
  if (all) list.length = 0;
  if (value === null) list.shift();
  else list.unshift(value);
  if (list.length === 0) store.avps.delete(key);
  else store.avps.set(key, list);
}

/** `root[idx]=>field[idx]` of an $xavp name; undefined when malformed. */
export interface XavpName {
  readonly root: string;
  readonly rootIndex: number | undefined;
  readonly field: string | undefined;
  readonly fieldIndex: number | undefined;
}

const XAVP_NAME = /^([A-Za-z0-9_.]+)(?:\[(-?\d+)\])?(?:=>([A-Za-z0-9_.]+)(?:\[(-?\d+)\])?)?$/;

export function parseXavpName(text: string): XavpName | undefined {
  const m = XAVP_NAME.exec(text.trim());
  if (!m) return undefined;
  const n = (s: string | undefined) => (s === undefined ? undefined : Number(s));
  return { root: m[1] as string, rootIndex: n(m[2]), field: m[3], fieldIndex: n(m[4]) };
}

function at<T>(list: readonly T[] | undefined, i: number): T | undefined {
  return list === undefined ? undefined : list[i < 0 ? list.length + i : i];
}

export function xavpGet(store: AvpStore, n: XavpName): PvValue {
  const item = at(store.xavps.get(n.root), n.rootIndex ?? 0);
  if (!item || n.field === undefined) return null;
  return at(item.get(n.field), n.fieldIndex ?? 0) ?? null;
}

/** Every value of one field of one item (for `[*]`). */
export function xavpValues(store: AvpStore, n: XavpName): PvValue[] {
  const item = at(store.xavps.get(n.root), n.rootIndex ?? 0);
  return (n.field !== undefined ? item?.get(n.field) : undefined) ?? [];
}

export function xavpSet(store: AvpStore, n: XavpName, value: PvValue): void {
  const items = store.xavps.get(n.root) ?? [];
  if (n.field === undefined) {
    // `$xavp(r) = null` removes the newest item (or the indexed one); a root takes no plain value.
    if (value === null) items.splice(n.rootIndex ?? 0, 1);
  } else if (n.rootIndex === undefined) {
    if (value !== null) items.unshift(new Map([[n.field, [value]]]));
  } else {
    const item = at(items, n.rootIndex);
    if (!item) return;
    const field = item.get(n.field) ?? [];
    if (value === null) field.shift();
    else field.unshift(value);
    if (field.length === 0) item.delete(n.field);
    else item.set(n.field, field);
  }
  if (items.length === 0) store.xavps.delete(n.root);
  else store.xavps.set(n.root, items);
}
