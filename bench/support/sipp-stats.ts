// Reads what a SIPp run leaves in its directory: the per-call response times of -trace_rtt
// -rtt_freq 1 (`<scenario>_<pid>_rtt.csv`: Date_ms;response_time_ms;rtd_no) and the last line of
// -trace_stat (`<scenario>_<pid>_.csv`, `;`-separated with a header row), by column name.
// SIPp measures response times on its millisecond clock, so percentiles are whole milliseconds.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** What one SIPp UAC run measured. */
export interface SippRunStats {
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
  /** Successful calls per second between the first and the last measured response. */
  readonly perSecond: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly maxms: number;
  /** CPU time the server under test used per successful call, in µs (when measured). */
  cpuUsPerCall?: number;
}

function fileEnding(dir: string, suffix: string): string | undefined {
  const f = readdirSync(dir).find((n) => n.endsWith(suffix));
  return f === undefined ? undefined : join(dir, f);
}

/** The value at quantile q (0..1) of sorted numbers, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

/** The last -trace_stat row as column → text. */
export function lastStatRow(dir: string): Map<string, string> {
  const f = fileEnding(dir, "_.csv");
  if (f === undefined) throw new Error(`no SIPp -trace_stat file in ${dir}`);
  const lines = readFileSync(f, "utf8").trim().split("\n");
  const head = (lines[0] ?? "").split(";");
  const last = (lines[lines.length - 1] ?? "").split(";");
  return new Map(head.map((h, i) => [h, last[i] ?? ""]));
}

/** Parses the files of a finished SIPp UAC run started with -trace_stat -trace_rtt -rtt_freq 1. */
export function readSippRun(dir: string, rtd = "1"): SippRunStats {
  const stat = lastStatRow(dir);
  const num = (col: string): number => Number(stat.get(col) ?? Number.NaN);
  const f = fileEnding(dir, "_rtt.csv");
  const times: number[] = [];
  const rts: number[] = [];
  if (f !== undefined) {
    for (const line of readFileSync(f, "utf8").split("\n").slice(1)) {
      const [date, rt, no] = line.split(";");
      if (no === undefined || no.trim() !== rtd) continue;
      times.push(Number(date));
      rts.push(Number(rt));
    }
  }
  rts.sort((a, b) => a - b);
  const successful = num("SuccessfulCall(C)");
  const spanMs = times.length > 1 ? Math.max(...times) - Math.min(...times) : Number.NaN;
  return {
    successful,
    failed: num("FailedCall(C)"),
    retransmissions: num("Retransmissions(C)"),
    perSecond: spanMs > 0 ? (rts.length * 1000) / spanMs : Number.NaN,
    p50ms: quantile(rts, 0.5),
    p99ms: quantile(rts, 0.99),
    maxms: rts.length === 0 ? Number.NaN : (rts[rts.length - 1] ?? Number.NaN),
  };
}
