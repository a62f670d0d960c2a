// Latency samples of one run, in microseconds, kept whole (a Float64Array that doubles as it
// fills: 100,000 samples are 800 KB) so every percentile is exact, not a histogram's estimate.
import { quantile } from "../support/sipp-stats.js";

/** Exact nearest-rank percentiles and the maximum, µs; NaN when there are no samples. */
export interface LatencySummary {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export class LatencyRecorder {
  #data = new Float64Array(1024);
  #n = 0;

  get count(): number {
    return this.#n;
  }

  add(us: number): void {
    if (this.#n === this.#data.length) {
      const grown = new Float64Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data[this.#n++] = us;
  }

  summary(): LatencySummary {
    return summarize(this.#data.subarray(0, this.#n));
  }
}

/** Summary of samples in any order (sorts a copy; a typed array sorts numerically). */
export function summarize(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number): number => quantile(sorted as unknown as readonly number[], q);
  return {
    n: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] ?? Number.NaN),
  };
}
