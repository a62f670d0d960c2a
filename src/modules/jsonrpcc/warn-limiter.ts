// Warn-level logging of per-request failures (no server, maxPending, unknown ids) that a flood must
// not turn into a log flood: one line per code per interval (10 s), the next line carrying how many
// were suppressed since. No timers: windows roll lazily. (Modules may not import the transport's
// RateLimitedLog, so this is the module's own, smaller limiter.)
import type { Logger } from "pino";
import type { ErrorCode } from "../../errors.js";

interface Window {
  last: number;
  suppressed: number;
}

/** One warn line per code per `intervalMs`; the rest are counted and reported on the next line. */
export class WarnLimiter {
  /** Lines dropped so far, over all codes. */
  suppressedTotal = 0;
  private readonly windows = new Map<ErrorCode, Window>();
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(logger: Logger, intervalMs = 10_000, now: () => number = Date.now) {
    this.logger = logger;
    this.intervalMs = intervalMs;
    this.now = now;
  }

  /** Logs `msg` at warn with `code`, unless this code already logged within the interval. */
  warn(code: ErrorCode, fields: Record<string, unknown>, msg: string): boolean {
    const t = this.now();
    const w = this.windows.get(code);
    if (w !== undefined && t - w.last < this.intervalMs) {
      w.suppressed++;
      this.suppressedTotal++;
      return false;
    }
    const suppressed = w?.suppressed ?? 0;
    this.windows.set(code, { last: t, suppressed: 0 });
    this.logger.warn(suppressed > 0 ? { ...fields, code, suppressed } : { ...fields, code }, msg);
    return true;
  }
}
