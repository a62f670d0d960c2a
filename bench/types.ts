// The two shapes every bench/<name>.bench.ts exports and bench/run.ts consumes: micro cases for
// tinybench and optional macro rows (e.g. SIPp calls/s against evsip and Kamailio).

/** One micro benchmark; inputs are built outside `fn` (in module scope or `setup`). */
export interface BenchCase {
  name: string;
  fn: () => void | Promise<void>;
  setup?: () => void | Promise<void>;
  /** Bytes processed per call, to report MB/s. */
  bytesPerOp?: number;
}

/** One line of a macro run's result. */
export interface MacroRow {
  name: string;
  metric: string;
  value: number;
  unit: string;
  note?: string;
}
