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

/**
 * Calls `put` for each series of the value read now: a number (unlabelled) or a Map (one series per
 * key); values that `ok` refuses are left out of this scrape.
 */
function eachSeries(
  spec: MetricSpec,
  source: MetricsSource,
  ok: (n: number) => boolean,
  put: (value: number, labels?: Record<string, string>) => void,
): void {
  const label = spec.label;
  const v = readSafe(spec, source);
  if (typeof v === "number") {
    if (label === undefined && ok(v)) put(v);
  } else if (v instanceof Map && label !== undefined) {
    for (const [k, n] of v) if (ok(n)) put(n, { [label]: k });
  }
}

/** Registers `spec` on `registry`, reading `source` at every scrape. */
export function registerSpec(registry: Registry, spec: MetricSpec, source: MetricsSource): void {
  const common = {
    name: spec.name,
    help: spec.help,
    labelNames: spec.label === undefined ? [] : [spec.label],
    registers: [registry],
  };
  if (spec.type === "counter") {
    new Counter({
      ...common,
      collect() {
        this.reset();
        eachSeries(spec, source, usable, (n, labels) => (labels ? this.inc(labels, n) : this.inc(n)));
      },
    });
    return;
  }
  new Gauge({
    ...common,
    collect() {
      this.reset();
      eachSeries(spec, source, Number.isFinite, (n, labels) => (labels ? this.set(labels, n) : this.set(n)));
    },
  });
}
