// The shape of ctx.htable (Kamailio htable: $sht, $shtex, sht_inc/dec, sht_rm) and of the module's
// params, apart from the implementation.
import type { TablesParam } from "./table-spec.js";
import type { HtValue } from "./hash-table.js";

export type { HtValue, TablesParam };

/** Params of the htable module. */
export interface HtableParamsConfig {
  /**
   * The tables: Kamailio's "a=>size=4;autoexpire=60;initval=0" (or an array of such strings), or
   * { a: { size: 4, autoexpire: 60, initval: 0 } }.
   */
  htable: TablesParam;
  /** Expiry sweep period in ms (Kamailio `timer_interval`, 20 s there; evsip's default is in `htableModule.params`). */
  timerInterval: number;
}

/** The item an event_route[htable:expired:<table>] is about. */
export interface HtableExpired {
  readonly table: string;
  readonly key: string;
  readonly value: HtValue;
}

/** ctx.htable. Unknown table names throw EvsipError ERR_HTABLE_UNKNOWN_TABLE. */
export interface HtableApi {
  /**
   * `$sht(table=>key)`: the value, else the table's initval, else null.
   * @example const n = ctx.htable.get("a", `calls-to::${ctx.pv("$rd")}`);
   */
  get(table: string, key: string): HtValue | null;
  /** `$sht(table=>key) = value`; null deletes the item (as assigning `$null`). */
  set(table: string, key: string, value: HtValue | null): void;
  /**
   * sht_inc / `$shtinc`: adds `by` (default 1) to an integer item, creating it from initval or 0.
   * @returns the new value, or null when the item holds a string.
   */
  inc(table: string, key: string, by?: number): number | null;
  /** sht_dec / `$shtdec`: subtracts `by` (default 1); see inc. */
  dec(table: string, key: string, by?: number): number | null;
  /** sht_rm: removes the item; false when it was absent. */
  delete(table: string, key: string): boolean;
  /** True when the item exists (initval does not count). */
  exists(table: string, key: string): boolean;
  /** `$shtex(table=>key)`: seconds until the item expires, 0 = never, null when absent. */
  getExpire(table: string, key: string): number | null;
  /** `$shtex(table=>key) = seconds`: sets the item's expiry (0 = never); false when absent. */
  setExpire(table: string, key: string, seconds: number): boolean;
  /** Items in the table. */
  count(table: string): number;
  /** In event_route[htable:expired:<table>]: the expired item (also `$shtrecord(key)`/`$shtrecord(value)`). */
  readonly expired: HtableExpired | undefined;
}
