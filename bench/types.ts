// The contract between bench files and the runner (bench/run.ts): each *.bench.ts exports
// `benches` (micro cases, inputs built outside the timed body) and optionally `macro()`.

/** One micro benchmark case. */
export interface BenchCase {
  name: string;
  fn: () => void | Promise<void>;
  setup?: () => void | Promise<void>;
  bytesPerOp?: number;
}

/** One row of a macro run (SIPp against evsip or Kamailio, …). */
export interface MacroRow {
  name: string;
  metric: string;
  value: number;
  unit: string;
  note?: string;
}
