// The htable module as a declared table: the tables param, ctx.htable, the $sht/$shtex/$shtinc/
// $shtdec/$shtrecord pseudo-variables, event_route[htable:mod-init] once at start (before the SIP
// listeners open) and event_route[htable:expired:<table>] per expired item, from one sweep per table.
import { EvsipError } from "../../errors.js";
import type { ModuleDefinition, ModuleHost, ModuleInstance } from "../../core/module.js";
import type { RouteContext } from "../../core/context.js";
import { customParam, intParam } from "../../core/params.js";
import type { PvValue } from "../../core/pv-registry.js";
import type { HtableApi, HtableExpired, HtableParamsConfig } from "./api-types.js";
import { HashTable, type HtValue } from "./hash-table.js";
import { parseTables } from "./table-spec.js";

/** The data of an htable:expired:<table> event run (ctx.eventData). */
export class ExpiredRecord implements HtableExpired {
  readonly table: string;
  readonly key: string;
  readonly value: HtValue;
  constructor(table: string, key: string, value: HtValue) {
    this.table = table;
    this.key = key;
    this.value = value;
  }
}

/** A running htable module; `tables` is exposed for stats and tests. */
export interface HtableModuleInstance extends ModuleInstance<HtableApi> {
  readonly tables: ReadonlyMap<string, HashTable>;
  /** Runs one expiry sweep of every table now (the interval does this every timerInterval). */
  sweep(): Promise<void>;
}

function splitArg(arg: string | undefined): [string, string] {
  const at = arg?.indexOf("=>") ?? -1;
  if (arg === undefined || at < 0) throw new EvsipError("ERR_PV_UNKNOWN", `$sht needs table=>key, got ${String(arg)}`);
  return [arg.slice(0, at), arg.slice(at + 2)];
}

function createInstance(host: ModuleHost, params: HtableParamsConfig): HtableModuleInstance {
  const parsed = parseTables(params.htable);
  if (!parsed.ok) throw new EvsipError("ERR_HTABLE_BAD_SPEC", parsed.detail);
  const tables = new Map(parsed.tables.map((t) => [t.name, new HashTable(t, params.timerInterval)]));
  const engine = host.engine;
  let timer: NodeJS.Timeout | undefined;

  const table = (name: string): HashTable => {
    const t = tables.get(name);
    if (!t)
      throw new EvsipError("ERR_HTABLE_UNKNOWN_TABLE", `htable: no table ${name} (declared: ${[...tables.keys()].join(", ")})`);
    return t;
  };
  const toValue = (v: PvValue): HtValue | null => (v === null ? null : typeof v === "number" ? Math.trunc(v) : v);

  const set = (t: string, key: string, value: HtValue | null): void => {
    if (value === null) table(t).delete(key);
    else table(t).set(key, value);
  };
  const add = (t: string, key: string, by: number): number | null => table(t).add(key, by) ?? null;

  host.registerPv("sht", {
    get: (_c, arg) => {
      const [t, k] = splitArg(arg);
      return table(t).get(k) ?? null;
    },
    set: (_c, arg, v) => {
      const [t, k] = splitArg(arg);
      set(t, k, toValue(v));
    },
  });
  host.registerPv("shtex", {
    get: (_c, arg) => {
      const [t, k] = splitArg(arg);
      return table(t).expiresIn(k) ?? null;
    },
    set: (_c, arg, v) => {
      const [t, k] = splitArg(arg);
      table(t).setExpire(k, Number(v ?? 0));
    },
  });
  host.registerPv("shtinc", { get: (_c, arg) => add(...splitArg(arg), 1) });
  host.registerPv("shtdec", { get: (_c, arg) => add(...splitArg(arg), -1) });
  host.registerPv("shtrecord", {
    get: (c, arg) => {
      const rec = c.eventData instanceof ExpiredRecord ? c.eventData : undefined;
      if (!rec) return null;
      return arg === "key" ? rec.key : arg === "value" ? rec.value : null;
    },
  });

  async function sweep(): Promise<void> {
    for (const [name, t] of tables) {
      const expired = t.sweep();
      if (expired.length === 0) continue;
      const event = `htable:expired:${name}`;
      if (!engine.hasEvent(event)) continue;
      for (const it of expired) await engine.runEvent(event, new ExpiredRecord(name, it.key, it.value));
    }
  }
  let sweeping = false;
  const onTick = (): void => {
    if (sweeping) return; // an async expired route is still running: the next tick catches up
    sweeping = true;
    void sweep().finally(() => (sweeping = false));
  };

  function api(ctx: RouteContext): HtableApi {
    return {
      get: (t, k) => table(t).get(k) ?? null,
      set,
      inc: (t, k, by = 1) => add(t, k, by),
      dec: (t, k, by = 1) => add(t, k, -by),
      delete: (t, k) => table(t).delete(k),
      exists: (t, k) => table(t).exists(k),
      getExpire: (t, k) => table(t).expiresIn(k) ?? null,
      setExpire: (t, k, s) => table(t).setExpire(k, s),
      count: (t) => table(t).size,
      get expired() {
        return ctx.eventData instanceof ExpiredRecord ? ctx.eventData : undefined;
      },
    };
  }

  return {
    tables,
    sweep,
    async init() {
      timer = setInterval(onTick, params.timerInterval);
      timer.unref();
      await engine.runEvent("htable:mod-init");
    },
    api,
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    stats() {
      const per = (pick: (t: HashTable) => number) => new Map([...tables].map(([n, t]) => [n, pick(t)]));
      return {
        items: per((t) => t.size),
        sets: per((t) => t.stats.sets),
        expired: per((t) => t.stats.expired),
        deletes: per((t) => t.stats.deletes),
      };
    },
  };
}

/**
 * Accepts the short forms too: a Kamailio string or array (`"a=>size=4"`), or tables straight
 * under the module (`{ a: { size: 4 } }`, as src/modules/htable/README.md shows); they become `{ htable }`.
 */
export function normalizeHtableParams(given: unknown): unknown {
  if (typeof given === "string" || Array.isArray(given)) return { htable: given };
  if (!given || typeof given !== "object") return given;
  const out: Record<string, unknown> = {};
  const tables: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(given as Record<string, unknown>)) {
    if (k === "htable" || k === "timerInterval") out[k] = v;
    else tables[k] = v;
  }
  if (Object.keys(tables).length === 0) return out;
  const declared = out.htable;
  if (declared === undefined) out.htable = tables;
  else if (typeof declared === "object" && !Array.isArray(declared)) out.htable = { ...(declared as object), ...tables };
  else return given; // mixed string form and short form: let validation name the stray keys
  return out;
}

/** The htable module definition (registered in src/builtin-modules.ts). */
export const htableModule: ModuleDefinition<HtableParamsConfig, HtableApi> = {
  name: "htable",
  pvs: ["sht", "shtex", "shtinc", "shtdec", "shtrecord"],
  ctxName: "htable",
  params: {
    htable: customParam<HtableParamsConfig["htable"]>(
      {},
      (v) => {
        const r = parseTables(v);
        return r.ok ? undefined : r.detail;
      },
      undefined,
      "ERR_HTABLE_BAD_SPEC",
    ),
    timerInterval: intParam(1000, 1, 3_600_000, "expiry sweep period (ms)"),
  },
  events: ["htable:mod-init", "htable:expired:<table>"],
  normalize: normalizeHtableParams,
  create: createInstance,
};
