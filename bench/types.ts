// The contract between bench/*.bench.ts files and the runner bench/run.ts (see the helper brief):
// a bench file exports `benches: BenchCase[]` and optionally `macro(): Promise<MacroRow[]>`.

/** One micro-benchmark; `bytesPerOp` makes the runner print MB/s. Inputs are built outside `fn`. */
export interface BenchCase {
  name: string;
  fn: () => void | Promise<void>;
  setup?: () => void | Promise<void>;
  bytesPerOp?: number;
}

/** One row of a macro run (end-to-end, e.g. SIPp against evsip). */
export interface MacroRow {
  name: string;
  metric: string;
  value: number;
  unit: string;
  note?: string;
}
