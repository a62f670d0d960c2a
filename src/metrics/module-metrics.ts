// Module stats() exported generically as evsip_<module>_<name>: each number or Map a module returns
// becomes a metric the first time it is seen (modules may add names at run time), read live at every
// scrape. A module's counters and gauges are told apart by name (see README.md, "Module stats").
import type { Registry } from "prom-client";
import type { MetricSpec } from "./layer-metrics.js";
import { registerSpec } from "./register.js";
import { moduleStats, snakeCase, type MetricsSource, type StatValue } from "./source.js";

/** Last word of a stat name that marks a current value (a gauge), not a running count. */
const GAUGE_WORDS = new Set(["connected", "pending", "items", "size", "open", "active", "current", "live", "inflight"]);

/** True when a module stat named `name` is a gauge (`clientsConnected`, `pending`, `items`). */
export function isGaugeName(name: string): boolean {
  const words = snakeCase(name).split("_");
  return GAUGE_WORDS.has(words[words.length - 1] ?? "");
}

/**
 * A Map stat named `<base>By<Label>` (evapi's `connectedByTag`) is the metric of `<base>` with a
 * `<label>` label; other Maps get `reason` (all keys error codes) or `key`.
 */
export function splitByLabel(name: string): { base: string; label: string | undefined } {
  const m = /^(.+)By([A-Z][A-Za-z]*)$/.exec(name);
  return m ? { base: m[1] as string, label: (m[2] as string).toLowerCase() } : { base: name, label: undefined };
}

/** The metric name of a module stat: evsip_<module>_<snake>, plus _total for a counter. */
export function moduleMetricName(module: string, name: string): string {
  const { base: stat } = splitByLabel(name);
  const base = `evsip_${snakeCase(module)}_${snakeCase(stat)}`;
  return isGaugeName(stat) || base.endsWith("_total") ? base : `${base}_total`;
}

/** Keeps the registry in step with the names modules report; call before each scrape. */
export class ModuleMetrics {
  private readonly seen = new Set<string>();
  /** Each module's stats() of the current scrape: one call per module per scrape. */
  private snapshot = new Map<string, Record<string, StatValue>>();
  private readonly registry: Registry;
  private readonly source: MetricsSource;

  constructor(registry: Registry, source: MetricsSource) {
    this.registry = registry;
    this.source = source;
  }

  /**
   * Takes this scrape's snapshot of every module's stats() and registers a metric for each stat not
   * seen before (a Map only once it has a key). Returns the snapshot (for /status).
   */
  refresh(): ReadonlyMap<string, Record<string, StatValue>> {
    this.snapshot = new Map();
    for (const [module, instance] of this.source.modules) this.snapshot.set(module, moduleStats(instance));
    for (const [module, stats] of this.snapshot) {
      for (const [name, value] of Object.entries(stats)) {
        const key = `${module}\u0000${name}`;
        if (this.seen.has(key)) continue;
        if (typeof value !== "number" && (!(value instanceof Map) || value.size === 0)) continue;
        this.seen.add(key);
        const allCodes = typeof value !== "number" && [...value.keys()].every((k) => k.startsWith("ERR_"));
        const { base, label } = splitByLabel(name);
        const spec: MetricSpec = {
          name: moduleMetricName(module, name),
          help: `${module} module stat ${name}`,
          type: isGaugeName(base) ? "gauge" : "counter",
          read: () => this.snapshot.get(module)?.[name] ?? 0,
          ...(typeof value === "number" ? {} : { label: label ?? (allCodes ? "reason" : "key") }),
        };
        try {
          registerSpec(this.registry, spec, this.source);
        } catch {
          // a name clash with another metric: leave this stat out rather than fail the scrape
        }
      }
    }
    return this.snapshot;
  }
}
