// Logging of peer-caused errors that a flood must not turn into a log flood: at most `lines` lines
// per code per interval; the first line after a window in which lines were dropped reports how many
// were suppressed. No timers: windows roll lazily on the next call, and flush() reports the rest.
// Reused by upper layers (tm, core, modules) for the same purpose.
import type { Logger } from "pino";
import type { ErrorCode } from "../errors.js";

/** Log levels a RateLimitedLog writes at. */
export type RateLimitedLevel = "warn" | "info" | "error" | "debug";

interface Window {
  start: number;
  lines: number;
  suppressed: number;
}

/** Options of a RateLimitedLog. */
export interface RateLimitedLogOptions {
  /** Most lines per code per interval. Default 10. */
  readonly lines?: number;
  /** Interval length in ms. Default 10000. */
  readonly intervalMs?: number;
  /** Clock, for tests. Default Date.now. */
  readonly now?: () => number;
}

/**
 * A per-code rate limiter in front of a pino logger.
 * @example
 * const log = new RateLimitedLog(logger, { lines: 5, intervalMs: 1000 });
 * log.warn("ERR_SIP_BAD_VIA", "dropped datagram", { remote: "1.2.3.4:5060" });
 */
export class RateLimitedLog {
  /** Lines dropped so far, over all codes. */
  suppressedTotal = 0;
  private readonly windows = new Map<string, Window>();
  private readonly maxLines: number;
  private readonly intervalMs: number;
  private readonly now: () => number;

  private readonly logger: Logger;

  constructor(logger: Logger, opts: RateLimitedLogOptions = {}) {
    this.logger = logger;
    this.maxLines = opts.lines ?? 10;
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Logs at warn level, unless this code already used its lines in the current interval. */
  warn(code: ErrorCode, msg: string, fields?: Record<string, unknown>): boolean {
    return this.log("warn", code, msg, fields);
  }

  /** Logs at `level`; returns whether the line was written. */
  log(level: RateLimitedLevel, code: ErrorCode, msg: string, fields?: Record<string, unknown>): boolean {
    const t = this.now();
    let w = this.windows.get(code);
    if (w === undefined) {
      w = { start: t, lines: 0, suppressed: 0 };
      this.windows.set(code, w);
    } else if (t - w.start >= this.intervalMs) {
      this.reportSuppressed(level, code, w);
      w.start = t;
      w.lines = 0;
    }
    if (w.lines >= this.maxLines) {
      w.suppressed++;
      this.suppressedTotal++;
      return false;
    }
    w.lines++;
    this.logger[level]({ ...fields, code }, msg);
    return true;
  }

  /** Reports every pending suppressed count now (call on shutdown). */
  flush(): void {
    for (const [code, w] of this.windows) this.reportSuppressed("warn", code as ErrorCode, w);
  }

  private reportSuppressed(level: RateLimitedLevel, code: ErrorCode, w: Window): void {
    if (w.suppressed === 0) return;
    this.logger[level]({ code, suppressed: w.suppressed }, `${w.suppressed} similar lines suppressed`);
    w.suppressed = 0;
  }
}
