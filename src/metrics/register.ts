// Turns a MetricSpec into a prom-client Counter or Gauge whose collect() copies the live value at
// scrape time: the layers keep their plain counters, prom-client only formats them. A reader that
// throws or yields a negative/non-finite number leaves that series out instead of failing the scrape.
import { Counter, Gauge, type Registry } from "prom-client";
import type { MetricSpec } from "./layer-metrics.js";
import type { MetricsSource, StatValue } from "./source.js";

const usable = (v: number): boolean => Number.isFinite(v) && v >= 0;

function readSafe(spec: MetricSpec, source: MetricsSource): StatValue | undefined {
  try {
    return spec.read(source);
  } catch {
    return undefined;
  }
}

/** Registers `spec` on `registry`, reading `source` at every scrape. */
export function registerSpec(registry: Registry, spec: MetricSpec, source: MetricsSource): void {
  const label = spec.label;
  const labelNames = label === undefined ? [] : [label];
  if (spec.type === "counter") {
    new Counter({
      name: spec.name,
      help: spec.help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        const v = readSafe(spec, source);
        if (typeof v === "number") {
          if (label === undefined && usable(v)) this.inc(v);
        } else if (v instanceof Map && label !== undefined) {
          for (const [k, n] of v) if (usable(n)) this.inc({ [label]: k }, n);
        }
      },
    });
    return;
  }
  new Gauge({
    name: spec.name,
    help: spec.help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      const v = readSafe(spec, source);
      if (typeof v === "number") {
        if (label === undefined && Number.isFinite(v)) this.set(v);
      } else if (v instanceof Map && label !== undefined) {
        for (const [k, n] of v) if (Number.isFinite(n)) this.set({ [label]: k }, n);
      }
    },
  });
}
